/* ChatPort widget: a launcher and a panel, isolated in a shadow root.
 * Everything the site or the visitor supplies is set as text, never HTML. */
(function () {
    'use strict';

    var script = document.currentScript;
    if (!script || window.__chatport) {
        return;
    }
    window.__chatport = true;

    var base = new URL('.', script.src).href;
    var texts = {
        en: { title: 'Chat with us', greeting: 'Hi! How can we help you?',
              open: 'Open chat', close: 'Close',
              offline: 'We are away right now.' },
        ja: { title: '\u304a\u554f\u3044\u5408\u308f\u305b',
              greeting: '\u3054\u8cea\u554f\u306f\u304a\u6c17\u8efd\u306b' +
                        '\u3069\u3046\u305e\u3002',
              open: '\u30c1\u30e3\u30c3\u30c8\u3092\u958b\u304f',
              close: '\u9589\u3058\u308b',
              offline: '\u305f\u3060\u3044\u307e\u4e0d\u5728\u3067\u3059\u3002' }
    };

    function el(tag, cls, text) {
        var e = document.createElement(tag);
        if (cls) { e.className = cls; }
        if (text) { e.textContent = text; }
        return e;
    }

    function start(config) {
        var lang = config.lang;
        if (lang !== 'ja' && lang !== 'en') {
            lang = /^ja\b/i.test(navigator.language || '') ? 'ja' : 'en';
        }
        var t = texts[lang];

        var host = el('div');
        host.setAttribute('data-chatport', '');
        var root = host.attachShadow({ mode: 'closed' });

        var css = el('link');
        css.rel = 'stylesheet';
        css.href = base + 'widget.css';
        root.appendChild(css);

        var launcher = el('button', 'launcher', '\u2709');
        launcher.type = 'button';
        launcher.setAttribute('aria-label', t.open);
        launcher.style.background = config.color;

        var panel = el('div', 'panel');
        panel.setAttribute('role', 'dialog');
        panel.hidden = true;

        var head = el('div', 'head', config.title || t.title);
        head.style.background = config.color;
        var close = el('button', 'close', '\u00d7');
        close.type = 'button';
        close.setAttribute('aria-label', t.close);
        head.appendChild(close);

        var body = el('div', 'body');
        body.setAttribute('aria-live', 'polite');
        body.appendChild(el('p', 'greeting', config.greeting || t.greeting));
        if (!config.online) {
            body.appendChild(el('p', 'note', t.offline));
        }

        panel.appendChild(head);
        panel.appendChild(body);
        root.appendChild(panel);
        root.appendChild(launcher);

        function toggle(open) {
            panel.hidden = !open;
            launcher.setAttribute('aria-expanded', open ? 'true' : 'false');
            (open ? close : launcher).focus();
        }

        launcher.addEventListener('click', function () { toggle(panel.hidden); });
        close.addEventListener('click', function () { toggle(false); });
        panel.addEventListener('keydown', function (e) {
            if (e.key === 'Escape') { toggle(false); }
        });

        document.body.appendChild(host);
    }

    fetch(base + 'config', { credentials: 'same-origin' })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (c) { if (c) { start(c); } })
        .catch(function () { /* no widget rather than a broken page */ });
})();
