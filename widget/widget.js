/* ChatPort widget: a launcher and a panel in a closed shadow root; live chat
 * while an operator is online, the contact form otherwise; once there is a
 * conversation it stays, and asks for an address when nobody answers.
 * Whatever the site, an operator or the visitor supplies is text, never
 * HTML.
 * Non-ASCII texts are \u escapes: the page may not be UTF-8. */
(function () {
    'use strict';

    var D = document, S = D.currentScript;
    if (!S || window.__chatport) {
        return;
    }
    window.__chatport = 1;

    var P = new URL('.', S.src).href, KEY = 'chatport_open',
        /* the browser's language: the labels' where the site lets it be */
        NL = /^ja\b/i.test(navigator.language || '') ? 'ja' : 'en',
        CFG = 'config?lang=' + NL;
    var FIELDS = ['name', 'email', 'message', 'tel'];
    var T = {
        en: { title: 'Chat with us', greeting: 'Hi! How can we help you?',
              open: 'Open chat', unread: ' unread', close: 'Close',
              ph: 'Write a message\u2026', send: 'Send',
              offline: 'We are away right now. Leave us a message and we ' +
                       'will get back to you.',
              labels: ['Name', 'Email', 'Message', 'Phone'],
              thanks: 'Thank you! We will get back to you soon.',
              err: 'Could not send. Please try again.',
              busy: 'Too many messages. Please try again later.',
              big: 'This message is too long.',
              ask: 'Nobody can answer right now. Leave your email and we ' +
                   'will reply there.',
              asked: 'Thank you! We will reply by email.',
              shut: 'This conversation was closed. Write again to reopen it.',
              typing: ' is typing\u2026', seen: 'Seen',
              photo: 'Send a photo', privacy: 'Privacy policy',
              fe: { required: 'Please fill this in.',
                    invalid: 'Please check this.', too_long: 'Too long.' } },
        ja: { title: '\u304a\u554f\u3044\u5408\u308f\u305b', greeting: '\u3054\u8cea\u554f\u306f\u304a\u6c17\u8efd\u306b\u3069\u3046\u305e\u3002',
              open: '\u30c1\u30e3\u30c3\u30c8\u3092\u958b\u304f', unread: '\u4ef6\u306e\u672a\u8aad', close: '\u9589\u3058\u308b',
              ph: '\u30e1\u30c3\u30bb\u30fc\u30b8\u3092\u5165\u529b\u2026', send: '\u9001\u4fe1',
              offline: '\u305f\u3060\u3044\u307e\u4e0d\u5728\u3067\u3059\u3002\u30e1\u30c3\u30bb\u30fc\u30b8\u3092\u304a\u9001\u308a\u3044\u305f\u3060\u3051\u308c\u3070\u3001' +
                       '\u6298\u308a\u8fd4\u3057\u3054\u9023\u7d61\u3057\u307e\u3059\u3002',
              labels: ['\u304a\u540d\u524d', '\u30e1\u30fc\u30eb\u30a2\u30c9\u30ec\u30b9', '\u304a\u554f\u3044\u5408\u308f\u305b\u5185\u5bb9', '\u96fb\u8a71\u756a\u53f7'],
              thanks: '\u3042\u308a\u304c\u3068\u3046\u3054\u3056\u3044\u307e\u3057\u305f\u3002\u6298\u308a\u8fd4\u3057\u3054\u9023\u7d61\u3057\u307e\u3059\u3002',
              err: '\u9001\u4fe1\u3067\u304d\u307e\u305b\u3093\u3067\u3057\u305f\u3002\u3082\u3046\u4e00\u5ea6\u304a\u8a66\u3057\u304f\u3060\u3055\u3044\u3002',
              busy: '\u9001\u4fe1\u304c\u591a\u3059\u304e\u307e\u3059\u3002\u3057\u3070\u3089\u304f\u3057\u3066\u304b\u3089\u304a\u8a66\u3057\u304f\u3060\u3055\u3044\u3002',
              big: '\u30e1\u30c3\u30bb\u30fc\u30b8\u304c\u9577\u3059\u304e\u307e\u3059\u3002',
              ask: '\u305f\u3060\u3044\u307e\u5bfe\u5fdc\u3067\u304d\u308b\u62c5\u5f53\u8005\u304c\u3044\u307e\u305b\u3093\u3002' +
                   '\u30e1\u30fc\u30eb\u30a2\u30c9\u30ec\u30b9\u3092\u304a\u77e5\u3089\u305b\u3044\u305f\u3060\u3051\u308c\u3070\u3001\u305d\u3061\u3089\u306b\u3054\u8fd4\u4fe1\u3057\u307e\u3059\u3002',
              asked: '\u3042\u308a\u304c\u3068\u3046\u3054\u3056\u3044\u307e\u3059\u3002\u30e1\u30fc\u30eb\u3067\u3054\u8fd4\u4fe1\u3057\u307e\u3059\u3002',
              shut: '\u3053\u306e\u4f1a\u8a71\u306f\u7d42\u4e86\u3057\u307e\u3057\u305f\u3002\u30e1\u30c3\u30bb\u30fc\u30b8\u3092\u9001\u308b\u3068\u518d\u958b\u3057\u307e\u3059\u3002',
              typing: '\u304c\u5165\u529b\u4e2d\u2026', seen: '\u65e2\u8aad',
              photo: '\u5199\u771f\u3092\u9001\u308b',
              privacy: '\u30d7\u30e9\u30a4\u30d0\u30b7\u30fc\u30dd\u30ea\u30b7\u30fc',
              fe: { required: '\u5165\u529b\u3057\u3066\u304f\u3060\u3055\u3044', invalid: '\u6b63\u3057\u304f\u5165\u529b\u3057\u3066\u304f\u3060\u3055\u3044',
                    too_long: '\u9577\u3059\u304e\u307e\u3059' } }
    };

    var t, lang, cfg, host, root, launcher, badge, panel, title, close, body,
        greet, log, off, foot, note, ta, ask, shut, who, saw, pic, file;
    var cursor = '0-0', seen = {}, unread = 0, delay = 0, polling, sending,
        pollTimer, conv, closed, mine = 0, theirs = 0, asked = got('c'),
        lastReply = '0-0', marked = '0-0', where, lastMine = '0-0', mineNode,
        seenId = '0-0', typedAt = 0, idle, whoTimer;

    /* localStorage: "c" once the visitor left an address */
    function got(k, v) {
        try {
            if (v) { localStorage.setItem('chatport_' + k, v); }
            return localStorage.getItem('chatport_' + k);
        } catch (e) { return null; }  /* storage may be disabled */
    }

    function el(tag, cls, text, parent) {
        var e = D.createElement(tag);
        if (cls) { e.className = cls; }
        if (text) { e.textContent = text; }
        if (parent) { parent.appendChild(e); }
        return e;
    }

    function attr(e, a) {
        for (var k in a) { e.setAttribute(k, a[k]); }
        return e;
    }

    /* A message's text into e, its http(s) URLs as links: only DOM nodes,
     * never HTML. URL characters leave out quotes, <, > and spaces, so
     * they end a link; trailing . , ! ? ; : and an unopened ) are the
     * sentence's. */
    function linked(text, e) {
        var re = /https?:\/\/[\w\-.~:\/?#[\]@!$&()*+,;=%]+/gi, i = 0, m, u,
            ok;
        text = String(text || '');
        while ((m = re.exec(text))) {
            u = m[0];
            while (/[.,!?;:)]$/.test(u) && (u.slice(-1) !== ')'
                   || u.split(')').length > u.split('(').length)) {
                u = u.slice(0, -1);
            }
            ok = 0;
            try { ok = /^https?:$/.test(new URL(u).protocol); } catch (x) {}
            if (ok) {
                txt(e, text.slice(i, m.index));
                attr(el('a', 0, u, e), { href: u, target: '_blank',
                                         rel: 'noopener noreferrer' });
                i = m.index + u.length;
            }
        }
        txt(e, text.slice(i));
    }

    function txt(e, s) {
        if (s) { e.appendChild(D.createTextNode(s)); }
    }

    function button(cls, text, parent, label) {
        var b = el('button', cls, text, parent);
        b.type = 'button';
        if (label) { attr(b, { 'aria-label': label }); }
        return b;
    }

    /* resolves to the response with its JSON body (or {}) as .j; data:
     * an object sent as JSON, or a Blob sent as it is */
    function api(path, data, fresh) {
        var o = { credentials: 'same-origin', cache: fresh || 'default' },
            b = data instanceof Blob;
        if (data) {
            o.method = 'POST';
            o.headers = { 'Content-Type': b ? data.type : 'application/json' };
            o.body = b ? data : JSON.stringify(data);
        }
        return fetch(P + path, o).then(function (r) {
            return r.json().then(null, function () { return {}; })
                .then(function (j) { r.j = j || {}; return r; });
        });
    }

    /* a POST with a random key; a 503 or a lost answer is sent again with
     * the same key (the server stores it once), 1 s doubling, 5 times */
    function post(path, data, n) {
        n = n || 0;
        data.key = data.key || Array.prototype.map.call(
            crypto.getRandomValues(new Uint8Array(16)),
            function (b) { return (b + 256).toString(16).slice(1); }).join('');
        function again(r) {
            return new Promise(function (ok) {
                setTimeout(ok, Math.max(1000 << n,
                    (r && r.headers.get('Retry-After')) * 1000 || 0));
            }).then(function () { return post(path, data, n + 1); });
        }
        return api(path, data).then(function (r) {
            return r.status === 503 && n < 5 ? again(r) : r;
        }, function (e) {
            if (n < 5) { return again(); }
            throw e;
        });
    }

    /* backoff: 1 s doubling to 30 s, or longer if Retry-After says so */
    function later(fn, r) {
        delay = Math.min(delay * 2 || 1000, 30000);
        return setTimeout(fn, Math.max(delay,
            (r && r.headers.get('Retry-After')) * 1000 || 0));
    }

    /* stream ids "ms-seq" in order */
    function cmp(a, b) {
        a = a.split('-');
        b = b.split('-');
        return a[0] - b[0] || a[1] - b[1];
    }

    function apply(c) {
        var n = parseInt(c.color.slice(1), 16), s = host.style;
        cfg = c;
        s.setProperty('--c', c.color);
        s.setProperty('--f', ((n >> 16) * 299 + (n >> 8 & 255) * 587 +
                              (n & 255) * 114) / 1000 > 150 ? '#111' : '#fff');
        /* chatport_position: the side, and the height of a shop's sticky
         * cart bar to keep clear */
        if (c.position) {
            s.setProperty('--b', c.bottom + 'px');
            if (c.position === 'left') {
                s.setProperty('--l', '20px');
                s.setProperty('--r', 'auto');
            }
        }
        title.textContent = c.title || t.title;
        attr(panel, { 'aria-label': title.textContent });
        greet.textContent = c.greeting || t.greeting;
        view();
    }

    /* what is being typed in the composer or the form */
    function busy(part) {
        var a = root.activeElement;
        return part === foot ? !!ta.value || a === ta :
            [].some.call(part.querySelectorAll('input,textarea'),
                         function (i) { return i.value || i === a; });
    }

    /* once there is a conversation it stays, online or not; a state change
     * never hides what the visitor is typing in */
    function view() {
        var f = busy(off), typing = busy(foot), was;
        foot.hidden = !(cfg.online || conv || typing);
        pic.hidden = !conv;     /* a photo never opens a conversation */
        off.hidden = !f && (conv || cfg.online);
        /* asked for an address while nobody is there, or nobody answered */
        was = ask.hidden + shut.hidden;
        ask.hidden = !busy(ask) && (!conv || asked || cfg.online &&
            !(mine > theirs && Date.now() - mine > cfg.reply_wait * 1000));
        shut.hidden = !closed;
        if (ask.hidden + shut.hidden < was) { bottom(); }
    }

    /* resolves once the config is there (or could not be had) */
    function refresh() {
        return api(CFG, 0, 'no-cache').then(function (r) {
            if (r.ok) { apply(r.j); }
        }, function () {});
    }

    function bottom() {
        body.scrollTop = body.scrollHeight;
    }

    function count() {
        badge.textContent = unread > 9 ? '9+' : unread;
        badge.hidden = !unread;
        attr(launcher, { 'aria-label':
             t.open + (unread ? ' (' + unread + t.unread + ')' : '') });
    }

    function msg(m, isNew) {
        if (seen[m.id]) { return; }
        seen[m.id] = 1;
        var agent = m.from === 'agent',
            node = el('div', 'msg' + (agent ? '' : ' me')),
            at = log.lastChild;
        node.id = 'm' + m.id;
        /* the operator's display name, else the login */
        el('span', 'meta', (agent && m.agent ? (m.name || m.agent) + ' \u00b7 ' : '') +
           (m.ts ? new Date(m.ts).toLocaleTimeString(lang,
                   { hour: '2-digit', minute: '2-digit' }) : ''), node);
        linked(m.text, el('span', 'text', 0, node));
        if (m.image) {
            /* a thumbnail (CSS sizes it) that opens the full size */
            var u = new URL(m.image.url, P).href;
            /* its height is known once it loaded: show it whole */
            attr(el('img', 0, 0, attr(el('a', 'pic', 0, node), {
                href: u, target: '_blank', rel: 'noopener' })), {
                src: u, alt: t.photo, width: m.image.width,
                height: m.image.height }).onload = bottom;
        }
        while (at && cmp(at.id.slice(1), m.id) > 0) { at = at.previousSibling; }
        log.insertBefore(node, at ? at.nextSibling : log.firstChild);
        if (agent && isNew && panel.hidden) { unread++; }
        if (agent) {
            if (cmp(m.id, lastReply) > 0) { lastReply = m.id; }
            theirs = Math.max(theirs, m.ts);
            typer();
        } else {
            mine = Math.max(mine, m.ts);
            if (cmp(m.id, lastMine) > 0) { lastMine = m.id; mineNode = node; }
        }
    }

    /* shown until a stop, a message or 6 s without news */
    function typer(e) {
        clearTimeout(whoTimer);
        who.hidden = !(e && e.typing);
        if (!who.hidden) {
            who.textContent = (e.name || e.agent) + t.typing;
            whoTimer = setTimeout(typer, 6000);
        }
    }

    /* at most every 2 s; a stop on sending, clearing, 5 s idle; nothing
     * before there is a conversation */
    function typing(on) {
        clearTimeout(idle);
        if (on) { idle = setTimeout(typing, 5000); }
        if (conv && (on ? Date.now() - typedAt > 2000 : typedAt)) {
            typedAt = on ? Date.now() : 0;
            api('typing', { typing: !!on }).catch(function () {});
        }
    }

    /* the operators' replies the visitor has in view are seen: no mail of
     * them is needed */
    function mark() {
        if (!panel.hidden && !D.hidden && cmp(lastReply, marked) > 0) {
            marked = lastReply;
            post('seen', { id: marked }).catch(function () { marked = '0-0'; });
        }
    }

    /* a messages/poll answer; true when it brought any message or event */
    function take(j, isNew) {
        var list = j.messages || [], ev = j.events || [];
        list.forEach(function (m) { msg(m, isNew); });
        ev.forEach(function (e) {
            if (e.type === 'typing') { typer(e); }
            if (e.type === 'seen') { j.seen = e.id; }
        });
        if (j.seen && cmp(j.seen, seenId) > 0) { seenId = j.seen; }
        saw.hidden = !mineNode || cmp(seenId, lastMine) < 0;
        if (!saw.hidden) { log.insertBefore(saw, mineNode.nextSibling); }
        if (j.cursor && cmp(j.cursor, cursor) > 0) { cursor = j.cursor; }
        if (j.status) { closed = j.status === 'closed'; }
        conv = conv || list.length;
        /* the page it is on, once per page load with a conversation (and
         * so never before the visitor wrote); tried again once */
        if (conv && !where) {
            where = post('page', { url: location.href, title:
                Array.from(D.title).slice(0, 300).join('') }, 4)
                .catch(function () {});
        }
        count();
        view();
        bottom();
        mark();
        return list.length + ev.length;
    }

    function history() {
        api('messages').then(function (r) {
            if (r.ok) {
                delay = 0;
                if (take(r.j)) { poll(); }
            } else if (r.status !== 403) {
                later(history, r);
            }
        }, function () { later(history); });
    }

    /* one long-poll at a time, once a conversation exists; stops on 403 */
    function poll() {
        clearTimeout(pollTimer);
        if (polling) { return; }
        polling = 1;
        api('poll?after=' + encodeURIComponent(cursor) + '&seen=' + seenId +
            (closed ? '&status=closed' : '')).then(function (r) {
            polling = 0;
            if (r.ok) {
                delay = 0;
                /* nothing new in a whole poll: is anybody there still? */
                if (!take(r.j, 1) && !r.j.status) { refresh(); }
                poll();
            } else if (r.status !== 403) {
                /* a cursor the store lost in a failover: read it all again */
                if (r.status === 400) { cursor = '0-0'; }
                pollTimer = later(poll, r);
            }
        }, function () {
            polling = 0;
            pollTimer = later(poll);
        });
    }

    function fail(r) {
        return r && r.status === 429 ? t.busy :
               r && r.status === 413 ? t.big : t.err;
    }

    function send() {
        var text = ta.value;
        if (sending || !text.trim()) { return; }
        if (new Blob([text]).size > cfg.max_message) {
            note.textContent = t.big;
            return;
        }
        sending = 1;
        typing();
        post('messages', { text: text, page: location.href,
                           referrer: D.referrer }).then(function (r) {
            sending = 0;
            if (r.status !== 201) {
                note.textContent = fail(r);
                return;
            }
            ta.value = note.textContent = '';
            closed = 0;
            take({ messages: [{ id: r.j.id, from: 'visitor', text: text,
                                ts: Date.now() }] });
            poll();
        }, function () {
            sending = 0;
            note.textContent = t.err;
        });
    }

    /* a photo, its long side brought down to 1600 px as a JPEG; a small
     * enough one is sent as it is (the server checks what it is) */
    function photo() {
        var f = file.files[0];
        file.value = '';
        if (!f || sending) { return; }
        sending = 1;
        note.textContent = '';
        createImageBitmap(f).then(function (i) {
            var k = Math.min(1, 1600 / Math.max(i.width, i.height)),
                c = el('canvas'), x = c.getContext('2d');
            if (k === 1 && f.size < 1e6 &&
                /^image\/(jpeg|png|gif|webp)$/.test(f.type)) { return f; }
            c.width = Math.round(i.width * k);
            c.height = Math.round(i.height * k);
            x.fillStyle = '#fff';
            x.fillRect(0, 0, c.width, c.height);
            x.drawImage(i, 0, 0, c.width, c.height);
            return new Promise(function (ok) {
                c.toBlob(ok, 'image/jpeg', 0.85);
            });
        }).then(function (b) {
            return api('images', b);
        }).then(function (r) {
            sending = 0;
            if (r.status !== 201) { note.textContent = fail(r); }
            poll();
        }, function () {
            sending = 0;
            note.textContent = t.err;
        });
    }

    /* a form of fields {name, type, required, max, label} in parent,
     * posted to path: done() once it is stored, else the errors by its
     * fields; extra: the contact form's page, referrer and honeypot */
    function form(parent, fields, path, done, extra) {
        var f = el('form', 0, 0, parent), inputs = {}, hp, submit, fnote;
        fields.forEach(function (d, i) {
            var id = path[0] + i,
                label = el('label', 0, (d.label ||
                                        t.labels[FIELDS.indexOf(d.name)] ||
                                        d.name) + (d.required ? ' *' : ''), f),
                input = el(d.type === 'textarea' ? d.type : 'input', 0, 0, f),
                /* what the browser may fill in */
                ac = /^(email|tel)$/.test(d.type) ? d.type :
                     { name: 'name', company: 'organization' }[d.name];
            label.htmlFor = input.id = id;
            if (d.type !== 'textarea') { input.type = d.type; }
            if (ac) { attr(input, { autocomplete: ac }); }
            input.name = d.name;
            input.required = d.required;
            if (d.max) { input.maxLength = d.max; }
            inputs[d.name] = [input, el('span', 'err', 0, f)];
            inputs[d.name][1].id = id + 'e';
            attr(input, { 'aria-describedby': id + 'e' });
        });
        if (extra) {
            hp = el('input', 'hp', 0, f);
            hp.name = 'website';
            hp.tabIndex = -1;
            attr(hp, { autocomplete: 'off', 'aria-hidden': 'true' });
        }
        fnote = attr(el('p', 'err', 0, f), { role: 'alert' });
        submit = el('button', 'send', t.send, f);
        if (cfg.privacy_url) {
            attr(el('a', 0, t.privacy, el('p', 'pv', 0, f)), {
                href: cfg.privacy_url, target: '_blank', rel: 'noopener' });
        }

        f.addEventListener('submit', function (e) {
            var data = extra ? { website: hp.value, page: location.href,
                                 referrer: D.referrer } : {}, k;
            e.preventDefault();
            for (k in inputs) {
                data[k] = inputs[k][0].value;
                inputs[k][0].removeAttribute('aria-invalid');
                inputs[k][1].textContent = '';
            }
            fnote.textContent = '';
            submit.disabled = true;
            post(path, data).then(function (r) {
                var bad = r.j.fields || {}, first;
                submit.disabled = false;
                if (r.status < 300) {
                    parent.textContent = '';
                    if (data.email) { asked = got('c', 1); }
                    done();
                    view();
                    return;
                }
                for (k in inputs) {
                    if (bad[k]) {
                        first = first || inputs[k][0];
                        attr(inputs[k][0], { 'aria-invalid': 'true' });
                        inputs[k][1].textContent = t.fe[bad[k]] || t.fe.invalid;
                    }
                }
                if (first) {
                    first.focus();
                } else {
                    fnote.textContent = fail(r);
                }
            }, function () {
                submit.disabled = false;
                fnote.textContent = t.err;
            });
        });
    }

    /* a note in the thread that keeps the focus in the panel */
    function told(text) {
        var p = attr(el('p', 'note', text, log), { role: 'status' });
        p.tabIndex = -1;
        p.focus();
    }

    function toggle(open, quiet) {
        panel.hidden = !open;
        attr(launcher, { 'aria-expanded': !!open });
        try {
            if (open) {
                sessionStorage.setItem(KEY, '1');
            } else {
                sessionStorage.removeItem(KEY);
            }
        } catch (e) { /* storage may be disabled */ }
        if (open) {
            unread = 0;
            count();
            bottom();
            mark();
        }
        if (!quiet) {
            (open ? (foot.hidden ? off.querySelector('input,textarea') : ta)
                    || close : launcher).focus();
        }
    }

    function svg(parent, d) {
        var ns = 'http://www.w3.org/2000/svg',
            s = attr(D.createElementNS(ns, 'svg'),
                     { viewBox: '0 0 24 24', 'aria-hidden': 'true' });
        s.appendChild(attr(D.createElementNS(ns, 'path'), { d: d }));
        parent.appendChild(s);
    }

    function start(c) {
        var css, was;
        cfg = c;
        lang = c.lang === 'ja' || c.lang === 'en' ? c.lang : NL;
        t = T[lang];

        host = el('chatport-widget');
        root = host.attachShadow({ mode: 'closed' });
        root.addEventListener('focusout', function () { setTimeout(view); });
        css = el('link', 0, 0, root);
        css.rel = 'stylesheet';
        css.href = P + 'widget.css';

        launcher = button('launcher', 0, root);
        launcher.hidden = true;      /* until the style is there */
        svg(launcher, 'M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 ' +
                      '2 0 0 1-2-2V5a2 2 0 0 1 2-2z');
        badge = attr(el('span', 'badge', 0, launcher), { 'aria-hidden': 'true' });

        panel = attr(el('div', 'panel', 0, root), { role: 'dialog' });
        panel.hidden = true;
        title = el('span', 'title', 0, el('div', 'head', 0, panel));
        close = button('close', '\u00d7', title.parentNode, t.close);
        body = el('div', 'body', 0, panel);
        greet = el('div', 'msg', 0, body);
        log = attr(el('div', 'log', 0, body),
                   { role: 'log', 'aria-live': 'polite' });
        who = el('p', 'note who', 0, body);
        who.hidden = true;
        saw = el('p', 'seen', t.seen);
        shut = el('p', 'note shut', t.shut, body);
        ask = el('div', 'ask', 0, body);
        el('p', 'note', t.ask, ask);
        form(ask, [{ name: 'email', type: 'email', required: 1, max: 254 },
                   { name: 'name', type: 'text', max: 200 }],
             'contact', function () { told(t.asked); });
        off = el('div', 'off', 0, body);
        el('p', 'note', c.offline || t.offline, off);
        form(off, c.form.fields, 'form', function () {
            conv = 1;
            told(cfg.thanks || t.thanks);
            history();
        }, 1);
        foot = el('div', 'foot', 0, panel);
        note = attr(el('p', 'err', 0, foot), { role: 'alert' });
        ta = attr(el('textarea', 0, 0, foot), { 'aria-label': t.ph });
        ta.placeholder = t.ph;
        ta.rows = 2;
        pic = button('pick', 0, foot, t.photo);
        svg(pic, 'M4 7h3l2-3h6l2 3h3v13H4zm8 3a4 4 0 1 0 0 8 4 4 0 0 0 ' +
                 '0-8z');
        file = attr(el('input', 'hp', 0, foot), { type: 'file',
            accept: 'image/*', tabindex: -1, 'aria-hidden': 'true' });
        pic.addEventListener('click', function () { file.click(); });
        file.addEventListener('change', photo);
        button('send', t.send, foot).addEventListener('click', send);
        apply(c);
        count();

        css.addEventListener('load', function () { launcher.hidden = false; });
        /* the panel opens on the current state */
        launcher.addEventListener('click', function () {
            if (panel.hidden) {
                refresh().then(function () { toggle(1); });
            } else {
                toggle(0);
            }
        });
        close.addEventListener('click', function () { toggle(0); });
        root.addEventListener('keydown', function (e) {
            if (e.key === 'Escape' && !e.isComposing && !panel.hidden) {
                toggle(0);
            }
        });
        ta.addEventListener('input', function () { typing(ta.value); });
        ta.addEventListener('keydown', function (e) {
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing &&
                e.keyCode !== 229) {
                e.preventDefault();
                send();
            }
        });

        (D.body || D.documentElement).appendChild(host);
        try {
            was = sessionStorage.getItem(KEY);
        } catch (e) { /* storage may be disabled */ }
        toggle(was === '1', 1);
        history();
        setInterval(function () { if (!D.hidden) { refresh(); } }, 60000);
        window.addEventListener('focus', refresh);
        D.addEventListener('visibilitychange', mark);
        setInterval(view, 5000);
    }

    api(CFG).then(function (r) { if (r.ok) { start(r.j); } },
                       function () { /* no widget rather than a broken page */ });
})();
