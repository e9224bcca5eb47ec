# kdumptest: test-only tool that reads images through wdt's format registry
# (tools/kdumptest.c); used by tests/integration/t04NN-*.sh.
KDUMPTEST := $(BUILD)/tools/kdumptest

.PHONY: kdumptest
kdumptest: $(KDUMPTEST)

$(KDUMPTEST): tools/kdumptest.c $(LIBWDT)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) \
		-o $@ tools/kdumptest.c $(LIBWDT) $(LIBS)

integration: $(KDUMPTEST)
