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

# the fault tests (t/1NN-*.t) in their long versions, and the idle soak
# with thousands of parked polls: minutes, not for CI
.PHONY: soak

soak: $(MODULE)
	@ulimit -n "$$(ulimit -Hn)" 2>/dev/null; \
	CHATPORT_SOAK=1 TEST_FILES="$(wildcard t/1[0-9][0-9]-*.t)" \
	    sh scripts/test.sh $(CURDIR)/$(MODULE)
