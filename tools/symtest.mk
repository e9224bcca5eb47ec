# symtest: test-only driver of the symbols layer (tools/symtest.c), used by
# tests/integration/t05NN-*.sh on the fake kernel's PE and PDB.
SYMTEST := $(BUILD)/tools/symtest

.PHONY: symtest
symtest: $(SYMTEST)

$(SYMTEST): tools/symtest.c $(LIBWDT)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) \
		-o $@ tools/symtest.c $(LIBWDT) $(LIBS)

integration: $(SYMTEST)
