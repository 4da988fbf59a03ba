# ChatPort: build the dynamic module against Debian's nginx, test it, demo it.

BUILD      := build
NGX_SRC    := /usr/share/nginx/src
NGX_DIR    := $(BUILD)/nginx
MODULE     := $(NGX_DIR)/objs/ngx_http_chatport_module.so
GEN_ASSETS := $(NGX_DIR)/objs/addon/chatport/ngx_http_chatport_assets_data.h

# the same compiler flags Debian built nginx with
NGX_CC_OPT := -g -O2 -fstack-protector-strong -Wformat \
              -Werror=format-security -fPIC -Wdate-time -D_FORTIFY_SOURCE=2
NGX_LD_OPT := -Wl,-z,relro -Wl,-z,now -fPIC

SOURCES    := config ngx_http_chatport_module.c $(wildcard src/*.c src/*.h)
ASSETS     := $(wildcard widget/*.js widget/*.css widget/*.html) widget/embed.sh

.PHONY: all deps test demo demo-stop clean

all: $(MODULE)

deps:
	@sh scripts/deps.sh

# configure once (again when the config script changes); nginx's own
# flags already make warnings errors (-W -Wall -Werror)
$(NGX_DIR)/objs/Makefile: config | deps
	rm -rf $(NGX_DIR)
	mkdir -p $(BUILD)
	cp -r $(NGX_SRC) $(NGX_DIR)
	cd $(NGX_DIR) && bash -c '. ./conf_flags && ./configure \
	    "$${NGX_CONF_FLAGS[@]}" --with-cc-opt="$(NGX_CC_OPT)" \
	    --with-ld-opt="$(NGX_LD_OPT)" --add-dynamic-module=$(CURDIR)' \
	    > configure.log 2>&1 || { tail -30 configure.log; exit 1; }

$(MODULE): $(NGX_DIR)/objs/Makefile $(SOURCES) $(ASSETS)
	sh widget/embed.sh widget $(GEN_ASSETS)
	$(MAKE) -C $(NGX_DIR) -f objs/Makefile modules
	@echo "built $(MODULE)"

test: $(MODULE)
	@sh scripts/test.sh $(CURDIR)/$(MODULE)

demo: $(MODULE)
	@sh scripts/demo.sh start $(CURDIR)/$(MODULE)

demo-stop:
	@sh scripts/demo.sh stop

clean:
	rm -rf $(BUILD) t/servroot*

# ---- sanitizers and fuzzing (README: Sanitizers and fuzzing) ----
#
# One nginx (the upstream source of the installed version, configured with
# Debian's flags) and the module built with clang and ASan+UBSan into
# build/asan/; `make asan` runs the Test::Nginx suite
# against it, `make fuzz` links libFuzzer targets against its objects.
# NGX_DEBUG_PALLOC makes every pool allocation its own malloc() so that
# ASan sees overruns of pool memory too.

ASAN_NGX    := $(BUILD)/asan/nginx
ASAN_BIN    := $(ASAN_NGX)/objs/nginx
ASAN_MODULE := $(ASAN_NGX)/objs/ngx_http_chatport_module.so
SAN_FLAGS   := -fsanitize=address,undefined -fno-omit-frame-pointer
ASAN_CC_OPT := -g -O1 $(SAN_FLAGS) -fPIC -DNGX_DEBUG_PALLOC=1
ASAN_LD_OPT := $(SAN_FLAGS) -fPIC

FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := $(patsubst fuzz/%.c,%,$(filter-out fuzz/fuzz_%,\
                $(wildcard fuzz/*.c)))
FUZZ_BINS    := $(addprefix $(FUZZ_DIR)/,$(FUZZ_TARGETS))

.PHONY: asan fuzz fuzz-build

$(ASAN_NGX)/objs/Makefile: config | deps
	mkdir -p $(BUILD)/asan
	sh scripts/nginx-src.sh $(ASAN_NGX)
	cd $(ASAN_NGX) && bash -c '. $(NGX_SRC)/conf_flags && ./configure \
	    "$${NGX_CONF_FLAGS[@]}" --with-cc=clang \
	    --with-cc-opt="$(ASAN_CC_OPT)" --with-ld-opt="$(ASAN_LD_OPT)" \
	    --add-dynamic-module=$(CURDIR)' \
	    > configure.log 2>&1 || { tail -30 configure.log; exit 1; }

$(ASAN_MODULE): $(ASAN_NGX)/objs/Makefile $(SOURCES) $(ASSETS)
	sh widget/embed.sh widget \
	    $(ASAN_NGX)/objs/addon/chatport/ngx_http_chatport_assets_data.h
	$(MAKE) -C $(ASAN_NGX) -f objs/Makefile binary modules
	@echo "built $(ASAN_BIN) and $(ASAN_MODULE)"

asan: $(ASAN_MODULE)
	@sh scripts/asan.sh $(CURDIR)/$(ASAN_BIN) $(CURDIR)/$(ASAN_MODULE)
