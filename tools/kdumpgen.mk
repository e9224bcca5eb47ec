# mkkdump: ELF core -> kdump-compressed test-data generator (tools/mkkdump.c).
# Built on its own: it must not link libwdt.a nor include core/ or formats/
# headers, so a reader bug cannot be mirrored by the writer.
MKKDUMP := $(BUILD)/tools/mkkdump
MKKDUMP_LIBS = $(shell $(PKG_CONFIG) --libs zlib lzo2 snappy libzstd 2>/dev/null)

.PHONY: kdumpgen
kdumpgen: $(MKKDUMP)

$(MKKDUMP): tools/mkkdump.c tools/kdumpgen.mk
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)$(CC) -D_FILE_OFFSET_BITS=64 -D_DEFAULT_SOURCE \
		$(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ tools/mkkdump.c $(MKKDUMP_LIBS)

# The integration tests use the generator.
integration: $(MKKDUMP)
