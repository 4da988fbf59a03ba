# ChatPort: build the dynamic module against Debian's nginx, test it, demo it.

BUILD      := build
NGX_SRC    := /usr/share/nginx/src
NGX_DIR    := $(BUILD)/nginx
MODULE     := $(NGX_DIR)/objs/ngx_http_chatport_module.so
GEN_ASSETS := $(NGX_DIR)/objs/addon/chatport/ngx_http_chatport_assets_data.h
GEN_LUA    := $(NGX_DIR)/objs/addon/chatport/ngx_http_chatport_lua.h

# the same compiler flags Debian built nginx with
NGX_CC_OPT := -g -O2 -fstack-protector-strong -Wformat \
              -Werror=format-security -fPIC -Wdate-time -D_FORTIFY_SOURCE=2
NGX_LD_OPT := -Wl,-z,relro -Wl,-z,now -fPIC

SOURCES    := config ngx_http_chatport_module.c $(wildcard src/*.c src/*.h)
ASSETS     := $(wildcard widget/*.js widget/*.css widget/*.html) widget/embed.sh
LUA        := $(wildcard src/lua/*.lua) src/lua/embed.sh

.PHONY: all deps deps-test deps-demo deb test demo demo-stop clean

all: $(MODULE)

# the Debian packages of each set (scripts/deps.sh) that are missing:
# building needs only "build", make test and make demo add theirs (after
# build, so that two apt-get never run at once under make -j)
deps:
	@sh scripts/deps.sh build

deps-test: deps
	@sh scripts/deps.sh test

deps-demo: deps
	@sh scripts/deps.sh demo

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

$(MODULE): $(NGX_DIR)/objs/Makefile $(SOURCES) $(ASSETS) $(LUA)
	sh widget/embed.sh widget $(GEN_ASSETS)
	sh src/lua/embed.sh src/lua $(GEN_LUA)
	$(MAKE) -C $(NGX_DIR) -f objs/Makefile modules
	@echo "built $(MODULE)"

# build/libnginx-mod-http-chatport_VERSION_ARCH.deb (README: Installation)
deb: $(MODULE)
	@sh scripts/deb.sh $(MODULE) $(NGX_DIR) $(BUILD)

test: deps-test $(MODULE)
	@sh scripts/test.sh $(CURDIR)/$(MODULE)

demo: deps-demo $(MODULE)
	@sh scripts/demo.sh start $(CURDIR)/$(MODULE)

demo-stop:
	@sh scripts/demo.sh stop

# stops the demo and deletes its Redis data: the next demo starts empty
.PHONY: demo-reset
demo-reset:
	@sh scripts/demo.sh reset

clean:
	rm -rf $(BUILD) t/servroot*

# the fault tests (t/1NN-*.t) in their long versions, and the idle soak
# with thousands of parked polls: minutes, not for CI
.PHONY: soak

soak: $(MODULE)
	@ulimit -n "$$(ulimit -Hn)" 2>/dev/null; \
	CHATPORT_SOAK=1 TEST_FILES="$(wildcard t/1[0-9][0-9]-*.t)" \
	    sh scripts/test.sh $(CURDIR)/$(MODULE)

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
# the static http modules of Debian's nginx beyond conf_flags (sub_filter,
# addition, gunzip, ...), which the tests use
ASAN_NGX_MODS = $(shell /usr/sbin/nginx -V 2>&1 | tr ' ' '\n' \
                  | grep -E '^--with-http_[a-z0-9_]+_module$$')

FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := $(patsubst fuzz/%.c,%,$(filter-out fuzz/fuzz_%,\
                $(wildcard fuzz/*.c)))
FUZZ_BINS    := $(addprefix $(FUZZ_DIR)/,$(FUZZ_TARGETS))

.PHONY: asan fuzz fuzz-build fuzz-mail-check deps-sanitizers

# make asan runs the tests too
deps-sanitizers: deps-test
	@sh scripts/deps.sh sanitizers

$(ASAN_NGX)/objs/Makefile: config | deps-sanitizers
	mkdir -p $(BUILD)/asan
	sh scripts/nginx-src.sh $(ASAN_NGX)
	cd $(ASAN_NGX) && bash -c '. $(NGX_SRC)/conf_flags && ./configure \
	    "$${NGX_CONF_FLAGS[@]}" $(ASAN_NGX_MODS) --with-cc=clang \
	    --with-cc-opt="$(ASAN_CC_OPT)" --with-ld-opt="$(ASAN_LD_OPT)" \
	    --add-dynamic-module=$(CURDIR)' \
	    > configure.log 2>&1 || { tail -30 configure.log; exit 1; }

$(ASAN_MODULE): $(ASAN_NGX)/objs/Makefile $(SOURCES) $(ASSETS) $(LUA)
	sh widget/embed.sh widget \
	    $(ASAN_NGX)/objs/addon/chatport/ngx_http_chatport_assets_data.h
	sh src/lua/embed.sh src/lua \
	    $(ASAN_NGX)/objs/addon/chatport/ngx_http_chatport_lua.h
	$(MAKE) -C $(ASAN_NGX) -f objs/Makefile binary modules
	@echo "built $(ASAN_BIN) and $(ASAN_MODULE)"

asan: $(ASAN_MODULE)
	@sh scripts/asan.sh $(CURDIR)/$(ASAN_BIN) $(CURDIR)/$(ASAN_MODULE)

# libFuzzer targets: fuzz/<target>.c includes the module sources it fuzzes
# and links with the ASan objects of nginx (its main() renamed: libFuzzer
# has the main) and of the rest of the module, taken from archives so that
# the included sources win
comma      := ,
FUZZ_INCS  := $(addprefix -I$(ASAN_NGX)/,src/core src/event \
              src/event/modules src/os/unix objs objs/addon/chatport \
              src/http src/http/modules src/http/v2) -Isrc -Ifuzz
FUZZ_CFLAGS := -g -O1 -fno-omit-frame-pointer -Wall -Wno-unused-parameter \
               -Werror
FUZZ_WRAP  := $(addprefix -Wl$(comma)--wrap=,ngx_http_send_header \
              ngx_http_output_filter ngx_http_finalize_request open64)
FUZZ_LIBS  := -ldl -lpthread -lcrypt -lpcre2-8 -lssl -lcrypto -lz \
              -lhiredis -ljansson -lcurl

$(FUZZ_DIR)/libnginx.a: $(ASAN_MODULE)
	mkdir -p $(FUZZ_DIR)
	objcopy --redefine-sym main=ngx_nginx_main \
	    $(ASAN_NGX)/objs/src/core/nginx.o $(FUZZ_DIR)/nginx.o
	rm -f $@
	ar rcs $@ $(FUZZ_DIR)/nginx.o $(ASAN_NGX)/objs/ngx_modules.o \
	    $$(find $(ASAN_NGX)/objs/src -name '*.o' ! -name nginx.o)

$(FUZZ_DIR)/libchatport.a: $(ASAN_MODULE)
	mkdir -p $(FUZZ_DIR)
	rm -f $@
	ar rcs $@ $$(find $(ASAN_NGX)/objs/addon -name '*.o')

$(FUZZ_DIR)/fuzz_common.o: fuzz/fuzz_common.c fuzz/fuzz_common.h \
                           $(ASAN_MODULE)
	mkdir -p $(FUZZ_DIR)
	clang $(FUZZ_CFLAGS) -fsanitize=address,undefined,fuzzer-no-link \
	    $(FUZZ_INCS) -c $< -o $@

$(FUZZ_DIR)/%: fuzz/%.c fuzz/fuzz_common.h $(FUZZ_DIR)/fuzz_common.o \
               $(FUZZ_DIR)/libchatport.a $(FUZZ_DIR)/libnginx.a $(SOURCES)
	clang $(FUZZ_CFLAGS) -fsanitize=address,undefined,fuzzer $(FUZZ_INCS) \
	    $< $(FUZZ_DIR)/fuzz_common.o \
	    $(FUZZ_DIR)/libchatport.a $(FUZZ_DIR)/libnginx.a \
	    $(FUZZ_WRAP) $(FUZZ_LIBS) -o $@

fuzz-build: $(FUZZ_BINS)

# the mail target's realistic entries read back by Python's email package
fuzz-mail-check: $(FUZZ_DIR)/mail
	@/usr/bin/python3 fuzz/mail-check.py $(FUZZ_DIR)/mail fuzz/corpus/mail

fuzz: fuzz-build fuzz-mail-check
	@sh scripts/fuzz.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)
