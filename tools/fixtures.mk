# Fixture factory (tools/README.md): synthetic Windows-like guests dumped by
# real QEMU. Fixtures are cached in build/fixtures/<name>/ by a hash of the
# factory's sources and parameters (a changed tool regenerates, an unchanged
# one reuses); built kernels and the boot ROM are cached in build/factory/.
.PHONY: fixtures fixtures-all fixtures-bench fixtures-kernel fixtures-clean

# The fixtures `make check` uses (tagged "check" in tools/fixtures.list).
fixtures:
	$(call say,FIXTURE,check)tools/fixtures.sh $$(tools/fixtures.sh --list check) >/dev/null

fixtures-bench:
	$(call say,FIXTURE,bench)tools/fixtures.sh $$(tools/fixtures.sh --list bench) >/dev/null

fixtures-all:
	$(call say,FIXTURE,all)tools/fixtures.sh $$(tools/fixtures.sh --list) >/dev/null

# Only the fake kernels (PE + PDB per build), e.g. for symbol tests.
fixtures-kernel:
	$(Q)for b in 7601 9600 17763 19041 22621; do tools/mkguest --kernel-only --build $$b >/dev/null || exit 1; done

fixtures-clean:
	rm -rf build/fixtures build/factory
