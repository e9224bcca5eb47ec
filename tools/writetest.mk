# writetest: test-only driver of the DMP/raw/ELF writers and atomic output
# (tools/writetest.c); used by tests/integration/t075N-*.sh.
WRITETEST := $(BUILD)/tools/writetest

.PHONY: writetest
writetest: $(WRITETEST)

$(WRITETEST): tools/writetest.c $(LIBWDT)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) \
		-o $@ tools/writetest.c $(LIBWDT) $(LIBS)

integration: $(WRITETEST)
