/* ChatPort operator console: no framework, no third-party requests. Every
 * visitor-supplied string goes through textContent or setAttribute. */
(function () {
  'use strict';

  var A = location.pathname.replace(/[^\/]*$/, '');
  var T = {
    en: { conversations: 'Conversations', forms: 'Contact forms', online: 'Online',
      away: 'Away', closedHours: 'Online \u2014 outside business hours (visitors see the form)',
      notConnected: 'Online \u2014 connecting\u2026',
      phone: 'Locking the screen makes you unavailable after %s s.', notifyAsk: 'Enable notifications', notifyOn: 'Notifications on',
      notifyOff: 'Notifications blocked', soundOn: 'Sound on', soundOff: 'Sound off',
      back: 'Back', close: 'Close', sure: 'Really close?', closed: 'closed', send: 'Send',
      reply: 'Reply', ph: 'Reply\u2026 (Enter sends, Shift+Enter new line)',
      page: 'Page', first: 'Landing page', referrer: 'Referrer', ua: 'Browser',
      visitor: 'Visitor', you: 'You', direct: '(direct)', noConv: 'No conversations yet.',
      pick: 'Select a conversation.', noForms: 'No contact-form submissions yet.',
      noFormsApi: 'Contact-form submissions are not available on this server yet.',
      newConv: 'New conversation', newMsg: 'New message', newForm: 'New contact form',
      retry: 'Connection lost, retrying in %s s\u2026', subject: 'Re: your inquiry',
      wrote: 'wrote', mail: 'Reply by email', name: 'Name', email: 'Email',
      message: 'Message', unmute: 'Sound is off until you click here',
      mailFailed: 'Email not delivered', seen: 'Seen by the visitor',
      notifyOff2: 'Notifications off', newContact: 'Contact details left',
      pages: 'Pages visited', nPages: '%s pages', onePage: '1 page',
      typing: '%s is typing\u2026', photo: 'Photo',
      search: 'Search text, email, name, page', fopen: 'Open', fclosed: 'Closed',
      funanswered: 'Unanswered', fmine: 'Mine', noMatch: 'No conversation matches.',
      loading: 'Loading\u2026' },
    ja: { conversations: '会話', forms: 'お問い合わせ', online: 'オンライン',
      away: '離席中', closedHours: 'オンライン \u2014 営業時間外（訪問者にはフォームを表示）',
      notConnected: 'オンライン \u2014 接続中\u2026',
      phone: '画面をロックすると %s 秒後に対応不可になります。', notifyAsk: '通知を有効にする', notifyOn: '通知オン',
      notifyOff: '通知はブロック中', soundOn: '音オン', soundOff: '音オフ',
      back: '戻る', close: '終了', sure: '本当に終了？', closed: '終了済み', send: '送信',
      reply: '返信', ph: '返信を入力（Enterで送信、Shift+Enterで改行）',
      page: '閲覧中のページ', first: '最初のページ', referrer: '参照元', ua: 'ブラウザ',
      visitor: '訪問者', you: 'あなた', direct: '（直接）', noConv: 'まだ会話はありません。',
      pick: '会話を選んでください。', noForms: 'まだお問い合わせはありません。',
      noFormsApi: 'このサーバーではフォームの一覧はまだ使えません。',
      newConv: '新しい会話', newMsg: '新しいメッセージ', newForm: '新しいお問い合わせ',
      retry: '接続が切れました。%s 秒後に再接続します\u2026', subject: 'お問い合わせへのご返信',
      wrote: '様からのお問い合わせ', mail: 'メールで返信', name: 'お名前', email: 'メール',
      message: '内容', unmute: 'ここをクリックすると音が鳴るようになります',
      mailFailed: 'メールを配信できませんでした', seen: '訪問者が既読',
      notifyOff2: '通知オフ', newContact: '連絡先が届きました',
      pages: '閲覧履歴', nPages: '%s ページ', onePage: '1 ページ',
      typing: '%sが入力中\u2026', photo: '写真',
      search: '本文・メール・名前・ページを検索', fopen: '対応中', fclosed: '終了',
      funanswered: '未返信', fmine: '自分の担当', noMatch: '該当する会話はありません。',
      loading: '読み込み中\u2026' }
  };
  /* operators: display names, "X is replying", claims, canned replies */
  var TEAM = {
    en: { replying: '%s is replying\u2026', claim: 'Claim', release: 'Release',
      takeover: 'Take over', holds: '%s has it', mine: 'Yours', canned: 'Canned replies',
      cannedNew: 'New canned reply', title: 'Title', text: 'Text', save: 'Save', cancel: 'Cancel',
      edit: 'Edit', del: 'Delete', noCanned: 'No canned replies yet. Type / in a reply to insert one.',
      cannedHint: 'Type / in the reply to insert one' },
    ja: { replying: '%sが返信中\u2026', claim: '担当する', release: '担当を外す',
      takeover: '引き継ぐ', holds: '担当: %s', mine: 'あなたが担当', canned: '定型文',
      cannedNew: '新しい定型文', title: 'タイトル', text: '本文', save: '保存', cancel: 'キャンセル',
      edit: '編集', del: '削除', noCanned: '定型文はまだありません。返信欄で / を入力すると挿入できます。',
      cannedHint: '返信欄で / を入力すると挿入できます' }
  };
  Object.keys(TEAM).forEach(function (l) { Object.keys(TEAM[l]).forEach(function (k) { T[l][k] = TEAM[l][k]; }); });
  /* the data requests' texts (forms state, delete, export) */
  Object.assign(T.en, { erase: 'Delete', dataReq: 'Export / erase by email', export: 'Export',
    cancel: 'Cancel', formNew: 'Mark done', formDone: '\u2713 Done', markNew: 'Mark as new again',
    eraseConv: 'Delete this conversation and everything stored with it (messages, photos, pages, forms)? ' +
      'This cannot be undone.',
    dataAsk: 'Everything stored about a visitor\u2019s email address: download it as JSON, or erase it.',
    eraseSure: 'Erase every conversation and form of %s? This cannot be undone.',
    eraseMore: 'More conversations of this address are left: erase again.' });
  Object.assign(T.ja, { erase: '削除', dataReq: 'メールでエクスポート／削除', export: 'エクスポート',
    cancel: 'キャンセル', formNew: '対応済みにする', formDone: '\u2713 対応済み', markNew: '未対応に戻す',
    eraseConv: 'この会話と、保存されているすべて（メッセージ、写真、閲覧履歴、お問い合わせ）を削除しますか？元に戻せません。',
    dataAsk: '訪問者のメールアドレスについて保存されているすべてを JSON でダウンロード、または削除します。',
    eraseSure: '%s の会話とお問い合わせをすべて削除しますか？元に戻せません。',
    eraseMore: 'このアドレスの会話がまだ残っています。もう一度削除してください。' });
  var t = T.en, lang = 'en', me = '', site = '', rtf;
  var names = {}, canned = [], menu = null, menuAt = 0;
  var convs = Object.create(null), order = [], items = {};
  var cur = null, cursor = null, seen, loading = false, again = false, gen = 0;
  var forms = [], formIds = {}, formCursor = null, newForms = 0, formEls = {}, answer = null;
  var pollCursor = {}, backoff = 1000, pres = { status: 'away' };
  var sites = null, sitePres = {}, cannedAt = null;
  var sound, actx = null, closeTimer = null, listTimer = null, notifyOn;
  var t0 = Date.now(), unmute, pages = null, pagesAsked = 0, shown = {};
  var lastAgent = null, lastLi = null, seenLi, typedAt = 0, typedIn = null, idle;
  /* the list: its search and filter, the cursor of the next older page
     (null at the end), whether pages past the first are loaded */
  var listQ = '', listF = '', listCursor = null, listDeep = false, listGen = 0, listBusy = false;

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text != null && text !== '') { e.textContent = String(text); }
    return e;
  }
  function add(p) {
    for (var i = 1; i < arguments.length; i++) { if (arguments[i]) { p.appendChild(arguments[i]); } }
    return p;
  }
  function rows(dl, list) {
    list.forEach(function (r) { add(dl, el('dt', '', r[0]), add(el('dd', r[2]), r[1])); });
    return dl;
  }
  function store(k, v) {
    try {
      if (v === undefined) { return localStorage.getItem('chatport.' + k); }
      localStorage.setItem('chatport.' + k, v);
    } catch (e) {}
    return null;
  }
  function visible() { return document.visibilityState === 'visible'; }
  function q(s) { return s ? '?after=' + encodeURIComponent(s) : ''; }
  function cpath(id, rest) { return 'conversations/' + encodeURIComponent(id) + '/' + rest; }

  /* ids are Redis stream ids "ms-seq": compare them as numbers */
  function cmp(a, b) {
    if (a === b) { return 0; }
    if (a == null || b == null) { return a == null ? -1 : 1; }
    var x = String(a).split('-'), y = String(b).split('-');
    return (+x[0] || 0) - (+y[0] || 0) || (+x[1] || 0) - (+y[1] || 0) || (a < b ? -1 : 1);
  }

  function status(text) { $('status').textContent = text || ''; $('status').hidden = !text; }
  function fail(e) {
    var text = (e.status ? e.status + ' ' : '') + (e.code ? e.code + ': ' : '') + e.message;
    status(text);
    setTimeout(function () { if ($('status').textContent === text) { status(''); } }, 15000);
  }
  /* body: an object sent as JSON, or a Blob (a photo) sent as it is */
  function api(method, path, body) {
    var o = { method: method, credentials: 'same-origin' }, b = body instanceof Blob;
    if (body) { o.headers = { 'Content-Type': b ? body.type : 'application/json' }; o.body = b ? body : JSON.stringify(body); }
    return fetch(A + withSite(path), o).then(function (r) {
      if (r.ok) { return r.status === 204 ? null : r.json(); }
      return r.json().catch(function () { return {}; }).then(function (j) {
        var e = new Error(j.message || r.statusText || 'HTTP ' + r.status);
        e.status = r.status;
        e.code = j.error;
        e.retry = +r.headers.get('Retry-After') || 0;
        e.json = j;
        throw e;
      });
    });
  }

  /* a POST with a random key; a 503 or a lost answer is sent again with the
     same key (the server stores it once), 1 s doubling or Retry-After, 5 times */
  function post(path, body, n) {
    n = n || 0;
    body.key = body.key || Array.prototype.map.call(crypto.getRandomValues(new Uint8Array(16)),
      function (b) { return (b + 256).toString(16).slice(1); }).join('');
    return api('POST', path, body).catch(function (e) {
      if (n >= 5 || (e.status && e.status !== 503)) { throw e; }
      return new Promise(function (ok) { setTimeout(ok, Math.max(1000 << n, (e.retry || 0) * 1000)); })
        .then(function () { return post(path, body, n + 1); });
    });
  }

  function ago(ms) {
    var s = Math.round((ms - Date.now()) / 1000), a = Math.abs(s);
    return a < 45 ? rtf.format(0, 'second') : a < 3600 ? rtf.format(Math.round(s / 60), 'minute') :
      a < 86400 ? rtf.format(Math.round(s / 3600), 'hour') : rtf.format(Math.round(s / 86400), 'day');
  }
  function clock(ms) {
    var d = new Date(ms), o = { hour: '2-digit', minute: '2-digit' };
    if (d.toDateString() !== new Date().toDateString()) { o.month = 'short'; o.day = 'numeric'; }
    return d.toLocaleString(lang, o);
  }
  /* a visitor-supplied URL is a link only when it is http(s) */
  function link(u, empty) {
    var a, ok = false;
    if (!u) { return el('span', 'none', empty); }
    try { ok = /^https?:$/.test(new URL(u).protocol); } catch (e) {}
    if (!ok) { return el('span', 'url', u); }
    a = el('a', 'url', u);
    a.setAttribute('href', u);
    a.setAttribute('target', '_blank');
    a.setAttribute('rel', 'noopener noreferrer');
    return a;
  }
  /* a message's text into e, its http(s) URLs as links (DOM nodes only):
   * quotes, <, > and spaces end a URL; trailing . , ! ? ; : and an
   * unopened ) are the sentence's; link() checks what is left */
  function linked(e, text) {
    var re = /https?:\/\/[\w\-.~:\/?#[\]@!$&()*+,;=%]+/gi, i = 0, m, u, a;
    text = text == null ? '' : String(text);
    while ((m = re.exec(text))) {
      u = m[0];
      while (/[.,!?;:)]$/.test(u) && (u.slice(-1) !== ')' || u.split(')').length > u.split('(').length)) {
        u = u.slice(0, -1);
      }
      a = link(u);
      if (a.tagName === 'A') {
        add(e, text.slice(i, m.index) && document.createTextNode(text.slice(i, m.index)), a);
        i = m.index + u.length;
      }
    }
    return add(e, text.slice(i) && document.createTextNode(text.slice(i)));
  }
  function label(id) { return t.visitor + ' ' + String(id).slice(0, 6); }
  function mailto(addr) {
    var a = el('a', 'url', addr);
    a.setAttribute('href', 'mailto:' + addr);
    return a;
  }
  /* a summary with more on demand, open or not as the operator left it
     (key) when the pane is drawn again */
  function more(key, summary, body) {
    var d = add(el('details', 'more'), add(el('summary'), summary), body);
    d.open = !!shown[key];
    d.addEventListener('toggle', function () { shown[key] = d.open; });
    return d;
  }
  /* "Chrome · Android" from a User-Agent string */
  function uaName(s) {
    var b = /bot|crawl|spider/i.test(s) ? 'Bot' : /Edg(A|iOS)?\//.test(s) ? 'Edge' :
      /OPR\/|Opera/.test(s) ? 'Opera' : /SamsungBrowser\//.test(s) ? 'Samsung Internet' :
      /Firefox\/|FxiOS\//.test(s) ? 'Firefox' : /Chrome\/|CriOS\//.test(s) ? 'Chrome' :
      /Safari\//.test(s) ? 'Safari' : '',
      o = /iPhone/.test(s) ? 'iPhone' : /iPad/.test(s) ? 'iPad' : /Android/.test(s) ? 'Android' :
      /Windows/.test(s) ? 'Windows' : /CrOS/.test(s) ? 'ChromeOS' :
      /Mac OS X|Macintosh/.test(s) ? 'macOS' : /Linux/.test(s) ? 'Linux' : '';
    return [b, o].filter(Boolean).join(' \u00b7 ');
  }
  /* the summary, the raw string on demand */
  function ua(s, key) {
    var name = uaName(s = String(s || ''));
    return name ? more(key, el('span', 'ua', name), el('span', 'ua', s)) : el('span', 'ua', s);
  }

  /* ---- sound (WebAudio, unlocked by the first click) and notifications ---- */
  function unlock() {
    var AC = window.AudioContext || window.webkitAudioContext;
    if (!actx && sound && AC) {
      actx = new AC();
      actx.onstatechange = muted;
    }
    if (actx && actx.state === 'suspended') { actx.resume().then(muted, muted); }
    muted();
  }
  /* the browser plays sound only after a click: say so until it does */
  function muted() {
    unmute.hidden = !sound || !!actx && actx.state === 'running';
  }
  function beep() {
    if (!sound || !actx || actx.state !== 'running') { return; }
    var o = actx.createOscillator(), g = actx.createGain(), n = actx.currentTime;
    o.frequency.value = 880;
    o.frequency.setValueAtTime(660, n + 0.12);
    g.gain.setValueAtTime(0.0001, n);
    g.gain.exponentialRampToValueAtTime(0.25, n + 0.02);
    g.gain.exponentialRampToValueAtTime(0.0001, n + 0.3);
    o.connect(g);
    g.connect(actx.destination);
    o.start(n);
    o.stop(n + 0.32);
  }
  function notify(title, body, cid) {
    beep();
    if (!notifyOn || !window.Notification || Notification.permission !== 'granted' ||
        visible() && document.hasFocus() && (!cid || cid === cur)) { return; }
    try {
      var n = new Notification(title, { body: String(body || '').slice(0, 140), tag: cid || 'form' });
      n.onclick = function () {
        window.focus();
        go(cid || 'forms');
        n.close();
      };
    } catch (e) {}
  }
  function tools() {
    var p = $('presence'), nb = $('notify'), s = $('sound'), perm;
    var online = pres.status === 'online', phone = $('phone');
    p.textContent = !online ? t.away : !pres.hours_open ? t.closedHours :
      pres.available ? t.online : t.notConnected;
    p.setAttribute('aria-pressed', String(online));
    p.classList.toggle('on', online && pres.available && pres.hours_open);
    phone.textContent = t.phone.replace('%s', pres.presence_grace || 90);
    phone.hidden = !(online && window.matchMedia && matchMedia('(pointer: coarse)').matches);
    s.textContent = sound ? t.soundOn : t.soundOff;
    s.setAttribute('aria-pressed', String(sound));
    if (window.Notification) {
      perm = Notification.permission;
      nb.hidden = false;
      nb.textContent = perm === 'granted' ? (notifyOn ? t.notifyOn : t.notifyOff2) :
        perm === 'denied' ? t.notifyOff : t.notifyAsk;
      nb.setAttribute('aria-pressed', String(perm === 'granted' && notifyOn));
      nb.disabled = perm === 'denied';
    }
  }

  /* ---- presence: the status is the server's, kept until changed; this
     console's long-poll (running also in a background tab) is what makes
     the operator available, as long as the page is open ---- */
  function session() {
    return api('GET', 'session').then(function (s) { pres = s; tools(); return s; });
  }

  /* ---- conversation list ---- */
  function totals() {
    var n = 0, f = 0;
    order.forEach(function (id) { n += convs[id].unread || 0; });
    f = newForms;
    $('ucount').textContent = n;
    $('ucount').hidden = !n;
    $('fcount').textContent = f;
    $('fcount').hidden = !f;
    document.title = (n + f ? '(' + (n + f) + ') ' : '') + (site || 'ChatPort');
  }
  function item(c) {
    var li = items[c.id], b, last = c.last || {}, where, sig = rowSig(c);
    if (li && li.sig === sig) { return li; }
    if (!li) {
      li = items[c.id] = el('li', 'item');
      li.setAttribute('data-id', c.id);
      b = add(li, el('button', 'pickc')).firstChild;
      b.type = 'button';
      b.addEventListener('click', function () { open(c.id); });
    }
    b = li.firstChild;
    while (li.lastChild !== b) { li.removeChild(li.lastChild); }
    b.textContent = '';
    add(b, add(el('span', 'row'), el('strong', 'who', c.name || c.email || label(c.id)),
               sites && c.site ? el('span', 'tag', c.site) : null,
               c.claimed ? el('span', 'holder', holder(c)) : null,
               el('time', 'ago', c.updated ? ago(c.updated) : ''),
               c.unread ? el('span', 'badge', c.unread) : null),
        typer(c) ? el('span', 'snip typing', typer(c)) :
        el('span', 'snip', (last.from === 'agent' ? (opName(last) || t.you) + ': ' : '') +
                           (last.text || (last.image ? '[' + t.photo + ']' : ''))));
    b.setAttribute('aria-current', String(c.id === cur));
    li.classList.toggle('sel', c.id === cur);
    li.classList.toggle('closed', c.status === 'closed');
    li.classList.toggle('unread', !!c.unread);
    where = add(li, el('div', 'where')).lastChild;
    add(where, link(c.page), c.referrer && el('span', '', ' \u2190 '), c.referrer && link(c.referrer));
    li.sig = sig;
    return li;
  }
  function renderList() {
    var ul = $('convs'), i, li;
    order = Object.keys(convs).sort(function (a, b) {
      return newer(convs[b], convs[a]);
    });
    for (i = 0; i < order.length; i++) {
      li = item(convs[order[i]]);
      if (ul.children[i] !== li) { ul.insertBefore(li, ul.children[i] || null); }
    }
    while (ul.children.length > order.length) { ul.removeChild(ul.lastChild); }
    $('noconv').hidden = order.length > 0;
    $('noconv').textContent = listQ || listF ? t.noMatch : t.noConv;
    $('more').hidden = !listCursor;
    totals();
    marks();
  }
  /* who types in a conversation (events are best effort: 6 s without news
     is a stop) */
  function typer(c) {
    return c && c.typing && Date.now() - c.typing.at < 6000 ?
      (c.typing.agent ? t.replying : t.typing).replace('%s', c.typing.who) : '';
  }
  /* the open conversation's "is typing" line, and "Seen by the visitor"
     under the operator's last reply once the visitor's widget showed it */
  function marks() {
    var c = convs[cur], ty = typer(c), on = !!(c && lastLi && cmp(c.seen || '', lastAgent) >= 0);
    $('typing').textContent = ty;
    $('typing').hidden = !ty;
    seenLi.textContent = t.seen;
    seenLi.hidden = !on;
    if (on) { $('msgs').insertBefore(seenLi, lastLi.nextSibling); }
  }
  /* tells the visitor and the other operators this operator types: at most
     every 2 s; a stop on sending, clearing the reply, 5 s idle or leaving */
  function typing(on) {
    var id = on ? cur : typedIn;
    clearTimeout(idle);
    if (on) { idle = setTimeout(typing, 5000); }
    if (id && (!on || Date.now() - typedAt > 2000)) {
      typedAt = on ? Date.now() : 0;
      typedIn = on ? id : null;
      api('POST', cpath(id, 'typing'), { typing: !!on }).catch(function () {});
    }
  }
  /* the first page (of the search and filter in force) replaces what it
     covers; older pages loaded by scrolling stay, unless reset */
  function loadList(reset) {
    var g = reset ? ++listGen : listGen;
    return api('GET', 'conversations' + listArgs()).then(function (j) {
      var list = j.conversations || [], end = j.cursor && list[list.length - 1];
      if (g !== listGen) { return; }
      if (reset || !listDeep || !end) {
        convs = Object.create(null);
        listCursor = j.cursor || null;
        listDeep = false;
        $('convs').parentNode.scrollTop = 0;
      } else {
        Object.keys(convs).forEach(function (id) { if (newer(convs[id], end) >= 0) { delete convs[id]; } });
      }
      list.forEach(function (c) {
        if (c.id === cur && visible()) { c.unread = 0; }
        convs[c.id] = c;
      });
      renderList();
      if (cur) { meta(); }
      setTimeout(nearEnd);
    });
  }
  /* a row's drawn state: the row is drawn again only when it changes */
  function rowSig(c) {
    var last = c.last || {};
    return [c.name, c.email, c.updated && ago(c.updated), c.unread, last.id, typer(c), c.status,
            c.id === cur, c.page, c.referrer, c.claimed].join('\n');
  }
  /* the list's order: the newest activity first, then the higher id (the
     server's order, which its cursor follows) */
  function newer(a, b) {
    return (a.updated || 0) - (b.updated || 0) || (a.id > b.id ? 1 : a.id < b.id ? -1 : 0);
  }
  function listArgs(before) {
    return '?limit=50' + (listQ ? '&q=' + encodeURIComponent(listQ) : '') +
      (listF ? '&filter=' + listF : '') + (before ? '&before=' + encodeURIComponent(before) : '');
  }
  /* the next older page, once the end of the list comes into view; a
     page may come back short (the server examines a bounded number of
     conversations per request): then the next one follows */
  function older() {
    var g = listGen;
    if (listBusy || !listCursor) { return; }
    listBusy = true;
    api('GET', 'conversations' + listArgs(listCursor)).then(function (j) {
      listBusy = false;
      if (g !== listGen) { return; }
      (j.conversations || []).forEach(function (c) { if (!convs[c.id]) { convs[c.id] = c; } });
      listCursor = j.cursor || null;
      listDeep = true;
      renderList();
      nearEnd();
    }, function (e) { listBusy = false; fail(e); });
  }
  function nearEnd() {
    var box = $('convs').parentNode;
    if (listCursor && $('more').getBoundingClientRect().top < box.getBoundingClientRect().bottom + 300) { older(); }
  }
  function listTexts() {
    var all = document.querySelectorAll('.filter'), i;
    $('find').setAttribute('placeholder', t.search);
    $('find').setAttribute('aria-label', t.search);
    $('more').textContent = t.loading;
    for (i = 0; i < all.length; i++) { all[i].textContent = t['f' + all[i].getAttribute('data-f')]; }
  }
  /* the search box (the list follows 300 ms after the last key; one
     character searches nothing) and the filter buttons (one at a time) */
  function listControls() {
    var timer, all = document.querySelectorAll('.filter'), i;
    on('find', 'input', function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var v = $('find').value.trim();
        if (v === listQ || v.length === 1) { return; }
        listQ = v;
        loadList(true).catch(fail);
      }, 300);
    });
    function pick(e) {
      var f = e.currentTarget.getAttribute('data-f');
      listF = listF === f ? '' : f;
      for (i = 0; i < all.length; i++) {
        all[i].setAttribute('aria-pressed', String(all[i].getAttribute('data-f') === listF));
      }
      loadList(true).catch(fail);
    }
    for (i = 0; i < all.length; i++) { on(all[i], 'click', pick); }
    on($('convs').parentNode, 'scroll', nearEnd);
  }
  function reloadList() {
    clearTimeout(listTimer);
    listTimer = setTimeout(function () { loadList().catch(fail); }, 300);
  }
  /* a newer message becomes the conversation's last one */
  function bump(c, m) {
    if (!c || !m || c.last && cmp(m.id, c.last.id) <= 0) { return false; }
    c.last = m;
    c.updated = Math.max(c.updated || 0, m.ts || Date.now());
    return true;
  }

  /* ---- the open conversation ---- */
  function meta() {
    var c = convs[cur] || {};
    $('meta').textContent = '';
    rows($('meta'), (c.email ? [[t.email, mailto(c.email)]] : []).concat(
      c.name ? [[t.name, el('span', '', c.name)]] : [], [[t.page, current(c)]],
      c.first_page && c.first_page !== c.page ? [[t.first, link(c.first_page)]] : [],
      pages && pages.length ? [[t.pages, trail()]] : [],
      [[t.referrer, link(c.referrer, t.direct)], [t.ua, ua(c.user_agent, 'ua')]],
      c.mail_failed ? [[t.mailFailed, el('span', 'failed', failure(c.mail_failed))]] : []));
    $('ctitle').textContent = c.name || c.email || label(cur);
    $('cstate').textContent = t.closed;
    $('cstate').hidden = c.status !== 'closed';
    $('close').disabled = c.status === 'closed';
    claimUi(c);
  }
  /* the page the visitor is on, with its title when it was reported */
  function current(c) {
    var p = pages && pages[pages.length - 1];
    return add(el('span', 'cur'), p && p.url === c.page && el('span', 'ptitle', p.title), link(c.page));
  }
  /* the pages of the conversation, oldest first */
  function trail() {
    var ol = el('ol', 'pages');
    pages.forEach(function (p) {
      add(ol, add(el('li'), el('time', '', clock(p.ts)), el('span', 'ptitle', p.title), link(p.url)));
    });
    return more('pages', el('span', '', pages.length === 1 ? t.onePage :
                                        t.nPages.replace('%s', pages.length)), ol);
  }
  /* the newest answer wins when the visitor moves faster than it comes */
  function loadPages() {
    var id = cur, n = ++pagesAsked;
    api('GET', cpath(id, 'pages')).then(function (j) {
      if (id === cur && n === pagesAsked) { pages = j.pages || []; meta(); }
    }).catch(fail);
  }
  function failure(f) {
    return [].concat(f.to || []).join(', ') + ': ' + f.error + ' (' +
      new Date(f.ts).toLocaleString(lang) + ')';
  }
  function addMsg(m) {
    if (!m || !m.id || seen[m.id]) { return; }
    seen[m.id] = true;
    var ol = $('msgs'), agent = m.from === 'agent', after = ol.lastChild,
      stick = ol.scrollHeight - ol.scrollTop - ol.clientHeight < 60,
      li = add(el('li', 'msg ' + (agent ? 'agent' : 'visitor')),
               add(el('div', 'mh'), el('span', '', agent ? opName(m) || t.you : t.visitor),
                   el('time', '', m.ts ? clock(m.ts) : '')),
               linked(el('div', 'mt'), m.text));
    li.setAttribute('data-id', m.id);
    if (m.image) { add(li, thumb(m.image)); }
    while (after && cmp(after.getAttribute('data-id'), m.id) > 0) { after = after.previousSibling; }
    ol.insertBefore(li, after ? after.nextSibling : ol.firstChild);
    if (agent && cmp(m.id, lastAgent) > 0) { lastAgent = m.id; lastLi = li; }
    if (stick || agent) { ol.scrollTop = ol.scrollHeight; }
  }
  /* a photo's thumbnail (CSS sizes it), a link to the full size */
  function thumb(im) {
    var a = el('a', 'pic'), img = el('img');
    a.setAttribute('href', withSite(im.url));
    a.setAttribute('target', '_blank');
    a.setAttribute('rel', 'noopener');
    img.setAttribute('src', withSite(im.url));
    img.setAttribute('alt', t.photo);
    img.setAttribute('width', im.width);
    img.setAttribute('height', im.height);
    /* its height is known once it loaded: a thread at its end stays there */
    img.onload = function () {
      var ol = $('msgs');
      if (ol.scrollHeight - ol.scrollTop - ol.clientHeight < img.height + 80) { ol.scrollTop = ol.scrollHeight; }
    };
    return add(a, img);
  }
  /* a photo (button, paste, drop) into the open conversation: its long
     side brought down to 1600 px as a JPEG, a small one sent as it is */
  function photo(f) {
    var id = cur;
    if (!id || !f || !/^image\//.test(f.type)) { return; }
    status('\u2026');
    createImageBitmap(f).then(function (i) {
      var k = Math.min(1, 1600 / Math.max(i.width, i.height)), c = el('canvas'), x = c.getContext('2d');
      if (k === 1 && f.size < 1e6 && /^image\/(jpeg|png|gif|webp)$/.test(f.type)) { return f; }
      c.width = Math.round(i.width * k);
      c.height = Math.round(i.height * k);
      x.fillStyle = '#fff';
      x.fillRect(0, 0, c.width, c.height);
      x.drawImage(i, 0, 0, c.width, c.height);
      return new Promise(function (ok) { c.toBlob(ok, 'image/jpeg', 0.85); });
    }).then(function (b) {
      return api('POST', cpath(id, 'images'), b);
    }).then(function () {
      status('');
      if (id === cur) { loadMsgs(); }
    }).catch(fail);
  }
  /* fetch what is new in the open conversation (this marks it read) */
  function loadMsgs() {
    if (!cur) { return; }
    if (loading) { again = true; return; }
    loading = true;
    var id = cur, g = gen;
    api('GET', cpath(id, 'messages') + q(cursor)).then(function (j) {
      if (g !== gen) { return; }
      (j.messages || []).forEach(function (m) { addMsg(m); bump(convs[id], m); });
      if (j.cursor) { cursor = j.cursor; }
      $('msgs').removeAttribute('aria-busy');
      if (convs[id]) { convs[id].unread = 0; convs[id].pending = false; renderList(); }
    }).catch(function (e) {
      /* a cursor the store lost in a failover: read it all again */
      if (e.status === 400 && g === gen && cursor) { cursor = null; again = true; } else { fail(e); }
    }).then(function () {
      if (g !== gen) { return; }
      loading = false;
      if (again) { again = false; loadMsgs(); }
    });
  }
  function open(id) {
    if (cur !== id) {
      typing();
      cur = id;
      siteCanned();
      cursor = null;
      lastAgent = lastLi = null;
      seen = Object.create(null);
      gen++;
      loading = again = false;
      $('msgs').textContent = '';
      $('msgs').setAttribute('aria-busy', 'true');
      resetClose();
      pages = null;
      loadPages();
    }
    $('conv').hidden = false;
    $('pick').hidden = true;
    here(id);
    $('p-c').classList.add('open');
    meta();
    renderList();
    loadMsgs();
    $(window.innerWidth >= 600 ? 'text' : 'back').focus();
  }
  function resetClose() {
    clearTimeout(closeTimer);
    closeTimer = null;
    $('close').textContent = t.close;
  }
  function closeConv() {
    var id = cur;
    if (!closeTimer) {
      $('close').textContent = t.sure;
      closeTimer = setTimeout(resetClose, 4000);
      return;
    }
    resetClose();
    api('POST', cpath(id, 'close'), {}).then(function () {
      if (convs[id]) { convs[id].status = 'closed'; }
      renderList();
      if (id === cur) { meta(); }
    }).catch(fail);
  }
  function send(ev) {
    var ta = $('text'), text = ta.value, id = cur;
    ev.preventDefault();
    if (!id || !text.trim() || ta.disabled) { return; }
    ta.disabled = $('send').disabled = true;
    typing();
    post(cpath(id, 'messages'), { text: text }).then(function (j) {
      var m = { id: j && j.id, from: 'agent', agent: me, name: names[me], text: text, ts: Date.now() };
      if (id === cur) { addMsg(m); ta.value = ''; }
      if (bump(convs[id], m)) { convs[id].status = 'open'; }
      renderList();
      status('');
    }).catch(fail).then(function () {
      ta.disabled = $('send').disabled = false;
      if (id === cur) { ta.focus(); }
    });
  }

  /* ---- contact forms ---- */
  function formItem(f) {
    var fl = f.fields || {}, a, body, mail = fl.email,
      li = add(el('li', 'fitem'), add(el('div', 'fh'), el('strong', '', fl.name || mail || t.visitor),
                                      sites && f.site ? el('span', 'tag', f.site) : null,
                                      el('time', '', f.ts ? clock(f.ts) : '')));
    add(li, rows(el('dl', 'meta'), Object.keys(fl).map(function (k) {
      return [(f.labels || {})[k] || (/^(name|email|message)$/.test(k) ? t[k] : k), el('span', '', fl[k]), k === 'message' ? 'mt' : ''];
    }).concat([[t.page, link(f.page)], [t.referrer, link(f.referrer, t.direct)],
               [t.ua, ua(f.user_agent, 'f' + f.id)]])));
    if (/^[A-Za-z0-9._+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(mail || '')) {
      body = '\n\n' + (fl.name ? fl.name + ' ' : '') + t.wrote + ':\n' +
        String(fl.message || '').replace(/^/gm, '> ');
      a = add(li, el('a', 'mail', t.mail + ' \u2192 ' + mail)).lastChild;
      a.setAttribute('href', 'mailto:' + mail + '?subject=' +
        encodeURIComponent(t.subject + (f.site || site ? ' (' + (f.site || site) + ')' : '')) +
        '&body=' + encodeURIComponent(body));
    }
    formMark(li, f);
    return li;
  }
  function addForm(f, live) {
    if (!f || !f.id || formIds[f.site + ' ' + f.id]) { return; }
    var fl = f.fields || {};
    formIds[f.site + ' ' + f.id] = true;
    forms.push(f);
    $('forms').insertBefore(formItem(f), $('forms').firstChild);
    $('fnote').hidden = true;
    if (live) { notify(t.newForm, (fl.name ? fl.name + ': ' : '') + (fl.message || '')); }
  }
  function note(text) { $('fnote').textContent = text; $('fnote').hidden = false; }
  function loadForms(live) {
    return api('GET', 'forms' + q(formCursor)).then(function (j) {
      (j.forms || []).forEach(function (f) { addForm(f, live); });
      if (j.cursor) { formCursor = j.cursor; }
      if (typeof j.new === 'number') { newForms = j.new; }
      if (!forms.length) { note(t.noForms); }
      totals();
    }, function (e) { note(e.status === 404 ? t.noFormsApi : e.message); });
  }

  /* a form's new/done toggle, the site's state shared by the operators */
  function formMark(li, f) {
    var b = add(li.firstChild, el('button', 'fstate')).lastChild;
    b.type = 'button';
    b.addEventListener('click', function () {
      var next = f.state === 'done' ? 'new' : 'done';
      b.disabled = true;
      api('POST', withSite('forms/' + encodeURIComponent(f.id) + '/state', f.site), { state: next }).then(function () {
        formSet(f.id, next);
        return loadForms(false);
      }).catch(fail).then(function () { b.disabled = false; });
    });
    formEls[f.id] = { li: li, f: f, b: b };
    formSet(f.id, f.state || 'new');
  }
  function formSet(id, state) {
    var x = formEls[id];
    if (!x) { return; }
    x.f.state = state;
    x.li.classList.toggle('done', state === 'done');
    x.b.textContent = state === 'done' ? t.formDone : t.formNew;
    x.b.title = state === 'done' ? t.markNew : '';
    x.b.setAttribute('aria-pressed', String(state === 'done'));
  }

  /* ---- data requests: delete a conversation; export or erase by email ---- */
  function ask(text, ok, email) {
    reply(null);
    $('askq').textContent = text;
    $('aok').textContent = ok;
    $('alab').hidden = $('aexp').hidden = !email;
    $('ask').showModal();
    (email ? $('aemail') : $('ano')).focus();
    return new Promise(function (done) { answer = done; });
  }
  function reply(v) {
    var f = answer;
    answer = null;
    if ($('ask').open) { $('ask').close(); }
    if (f) { f(v); }
  }
  /* an erased conversation leaves the list, the view and the forms */
  function dropConv(id) {
    delete convs[id];
    if (items[id]) { items[id].remove(); delete items[id]; }
    forms = forms.filter(function (f) {
      if (f.conversation !== id) { return true; }
      if (formEls[f.id]) { formEls[f.id].li.remove(); delete formEls[f.id]; }
      return false;
    });
    if (id === cur) {
      cur = null;
      $('conv').hidden = true;
      $('pick').hidden = false;
      $('p-c').classList.remove('open');
      here('');
    }
    if (!forms.length) { note(t.noForms); }
    renderList();
  }
  /* the backlog of the first poll is older than the forms loaded */
  function dataEvent(ev, live) {
    if (ev.type === 'erased') {
      dropConv(ev.conversation);
    } else if (ev.type === 'form_state') {
      if (live) { formSet(ev.form, ev.state); }
    } else {
      return false;
    }
    if (live) { loadForms(false); }
    return true;
  }
  function eraseConv() {
    var id = cur;
    ask(t.eraseConv, t.erase).then(function (v) {
      if (v !== 'ok') { return; }
      return api('POST', withSite('erase', convs[id] && convs[id].site), { conversation: id }).then(function () {
        dropConv(id);
        return loadForms(false);
      });
    }).catch(fail);
  }
  /*
   * an email's data request on every site of the console, one after the
   * other: {site: answer} (a site with nothing of it is left out), or the
   * one site's answer
   */
  function eachSite(f) {
    var out = {}, none = null;
    return (sites || ['']).reduce(function (p, s) {
      return p.then(function () {
        return f(s || null).then(function (j) { out[s] = j || {}; }, function (e) {
          if (e.code !== 'unknown_email') { throw e; }
          none = e;
        });
      });
    }, Promise.resolve()).then(function () {
      if (!Object.keys(out).length) { throw none; }
      return out;
    });
  }
  function dataReq() {
    ask(t.dataAsk, t.erase, true).then(function (v) {
      var email = $('aemail').value.trim(), a;
      if (!v || !email) { return; }
      if (v === 'export') {
        return eachSite(function (s) {
          return api('GET', withSite('export?email=' + encodeURIComponent(email), s));
        }).then(function (j) {
          j = sites ? j : j[''];
          a = el('a');
          a.href = URL.createObjectURL(new Blob([JSON.stringify(j, null, 2)], { type: 'application/json' }));
          a.download = 'chatport-export.json';
          document.body.appendChild(a);
          a.click();
          a.remove();
        });
      }
      return ask(t.eraseSure.replace('%s', email), t.erase).then(function (w) {
        if (w !== 'ok') { return; }
        return eachSite(function (s) {
          return api('POST', withSite('erase', s), { email: email });
        }).then(function (j) {
          status(Object.keys(j).some(function (s) { return j[s].more; }) ? t.eraseMore : '');
          $('aemail').value = '';
          reloadList();
          return loadForms(false);
        });
      });
    }).catch(fail);
  }

  /* ---- the inbox long-poll; "live" is false for the backlog of the first answer ---- */
  function handle(ev, live) {
    var id = ev.conversation, c = id && convs[id], m = ev.message, fresh = true;
    if (team(ev, c)) { return; }
    if (ev.type === 'typing') {
      if (c && !(ev.from === 'agent' && ev.agent === me)) {
        c.typing = ev.typing && { who: ev.from === 'agent' ? opName(ev) : t.visitor, at: Date.now(),
                                  agent: ev.from === 'agent' };
        setTimeout(renderList, 6100);
      }
      return;
    }
    if (dataEvent(ev, live)) { return; }
    if (ev.type === 'form') {
      if (ev.form) { addForm(Object.assign({ site: ev.site }, ev.form), live); }
      /* the count of new forms is the server's */
      if (live || !ev.form) { loadForms(live); }
      /* the form is also the visitor's message in their conversation */
      if (!id) { return; }
      if (!c) { reloadList(); return; }
      if (bump(c, m)) { c.status = 'open'; c.unread = (c.unread || 0) + 1; }
      if (id === cur) { loadMsgs(); }
      return;
    }
    if (ev.type === 'mail_failed' || ev.type === 'seen') {
      if (!c) { return; }
      if (ev.type === 'seen') { c.seen = ev.id; return; }
      c.mail_failed = ev.mail;
      if (id === cur) { meta(); }
      if (live) { notify(t.mailFailed, failure(ev.mail), id); }
      return;
    }
    if (ev.type === 'page') {
      if (c) { c.page = ev.url; }
      if (id === cur) { loadPages(); }
      return;
    }
    if (ev.type === 'contact') {
      if (c) { c.email = ev.email; c.name = ev.name || c.name; }
      if (live) { notify(t.newContact, ev.email, id); }
      return;
    }
    if (!id) { return; }
    /* one the list has not loaded comes with its page (or the next load) */
    if (!c && !live) { reloadList(); return; }
    if (!c) {
      c = convs[id] = { id: id, site: ev.site, status: 'open', unread: m && m.from === 'visitor' ? 1 : 0,
                        last: m, updated: m && m.ts || Date.now() };
      if (live) { notify(t.newConv, m ? m.text : ev.page, id); }
      reloadList();
    } else if (bump(c, m)) {
      c.typing = null;
      if (m.from !== 'visitor') {
        if (id === cur) { loadMsgs(); }
      } else {
        c.status = 'open';
        if (id === cur && visible()) {
          loadMsgs();
        } else {
          c.unread = (c.unread || 0) + 1;
          c.pending = id === cur;
        }
        notify(t.newMsg, m.text || '[' + t.photo + ']', id);
      }
    } else {
      fresh = false;
    }
    if (ev.page && fresh) { c.page = ev.page; }
    if (ev.type === 'closed' && live) { c.status = 'closed'; }
  }
  /* the backlog of the first answer is not news; what came after the
     console opened is (the first answer waited for it, or its time says so) */
  function poll(s) {
    var asked = Date.now();
    api('GET', withSite('poll' + q(pollCursor[s]), s)).then(function (j) {
      var waited = pollCursor[s] != null || Date.now() - asked > 1500;
      if (backoff > 1000) { status(''); loadList().catch(fail); loadMsgs(); session().catch(fail); }
      backoff = 1000;
      (j.events || []).forEach(function (ev) {
        try { handle(ev, waited || ev.ts >= t0); } catch (e) { status(e.message); }
      });
      if (cur) { meta(); }
      renderList();
      if (j.cursor) { pollCursor[s] = j.cursor; }
      poll(s);
    }, function (e) {
      var wait = Math.max(backoff, e.retry * 1000 || 0);
      status((e.status && e.status !== 503 ? e.status + ' ' + e.message + ' \u2014 ' : '') +
             t.retry.replace('%s', Math.round(wait / 1000)));
      backoff = Math.min(backoff * 2, 30000);
      setTimeout(function () { poll(s); }, wait);
    });
  }

  /* ---- several sites (chatport_agent_sites): a request about one
     conversation names its site; one inbox poll and one presence per site ---- */
  function withSite(path, s) {
    var m = /(^|\/)conversations\/([0-9a-f]{32})\//.exec(path);
    s = s || m && convs[m[2]] && convs[m[2]].site || /^canned/.test(path) && (cannedAt || sites && sites[0]);
    return sites && s ? path + (path.indexOf('?') < 0 ? '?' : '&') + 'site=' + encodeURIComponent(s) : path;
  }
  /* canned replies are a site's: those of the open conversation's site */
  function siteCanned() {
    var s = sites && (convs[cur] && convs[cur].site || sites[0]);
    if (s && s !== cannedAt) { cannedAt = s; loadCanned(); }
  }
  function siteStart() {
    var box = el('span', 'tools');
    box.id = 'sitepres';
    $('presence').parentNode.insertBefore(box, $('presence'));
    $('presence').hidden = true;
    $('site').textContent = sites.join(' \u00b7 ');
    sites.forEach(function (s) {
      var b = add(box, el('button', 'presence')).lastChild;
      b.type = 'button';
      b.setAttribute('data-site', s);
      b.addEventListener('click', function () {
        api('POST', 'presence', { status: (sitePres[s] || {}).status === 'online' ? 'away' : 'online', site: s })
          .then(siteSessions).catch(fail);
      });
    });
    siteSessions();
    setTimeout(siteSessions, 1000);
    setInterval(siteSessions, 15000);
  }
  /* each site's presence, as the single-site console shows its own */
  function siteSessions() {
    return Promise.all(sites.map(function (s) {
      return api('GET', withSite('session', s)).then(function (p) { sitePres[s] = p; }, function () {});
    })).then(function () {
      sites.forEach(function (s, i) {
        var p = sitePres[s] || {}, on = p.status === 'online', b = $('sitepres').children[i];
        b.textContent = s + ': ' + (!on ? t.away : !p.hours_open ? t.closedHours : p.available ? t.online : t.notConnected);
        b.setAttribute('aria-pressed', String(on));
        b.classList.toggle('on', on && p.available && p.hours_open);
      });
    });
  }

  function tab(which) {
    ['c', 'f'].forEach(function (k) {
      var on = k === which;
      $('tab-' + k).setAttribute('aria-selected', String(on));
      $('tab-' + k).tabIndex = on ? 0 : -1;
      $('p-' + k).hidden = !on;
    });
    here(which === 'f' ? 'forms' : cur);
  }
  /* the address names what is shown: #<CID> or #forms (links in
     notifications and emails open it) */
  function here(what) {
    history.replaceState(null, '', location.pathname + location.search + (what ? '#' + what : ''));
  }
  function go(where) {
    if (where === 'forms') {
      tab('f');
    } else if (/^[0-9a-f]{32}$/.test(where)) {
      tab('c');
      open(where);
    }
  }
  /* a phone's keyboard has no Shift+Enter: there Enter is a new line and
     the Send button sends */
  function touch() {
    return matchMedia('(pointer: coarse)').matches;
  }
  function texts() {
    var all = document.querySelectorAll('[data-t]'), i;
    for (i = 0; i < all.length; i++) { all[i].textContent = t[all[i].getAttribute('data-t')]; }
    $('text').setAttribute('placeholder', touch() ? t.reply + '\u2026' : t.ph);
    listTexts();
    document.documentElement.lang = lang;
    rtf = new Intl.RelativeTimeFormat(lang, { numeric: 'auto', style: 'short' });
    tools();
  }
  /* ---- operators: names, claims, canned replies (the "/" menu) ---- */
  /* an operator by display name: a message's or event's "name", the
     session's names, else the login */
  function opName(x) { return x.name || names[x.agent] || x.agent || ''; }
  function holder(c) { return c.claimed === me ? t.mine : t.holds.replace('%s', opName({ agent: c.claimed })); }
  function team(ev, c) {
    if (ev.type === 'canned') { loadCanned(); return true; }
    if (ev.type !== 'claimed') { return false; }
    if (ev.name && ev.operator) { names[ev.operator] = ev.name; }
    if (c) { c.claimed = ev.operator || null; }
    if (ev.conversation === cur) { claimUi(c || {}); }
    return true;
  }
  function claimUi(c) {
    var b = $('claim'), h = $('holder');
    h.hidden = !c.claimed;
    h.textContent = c.claimed ? holder(c) : '';
    b.textContent = !c.claimed ? t.claim : c.claimed === me ? t.release : t.takeover;
  }
  /* claim, release, or take over from the operator who has it */
  function claim() {
    var id = cur, c = convs[id] || {}, mine = c.claimed === me;
    api('POST', cpath(id, mine ? 'release' : 'claim'), c.claimed && !mine ? { force: true } : {}).then(function () {
      if (convs[id]) { convs[id].claimed = mine ? null : me; }
    }, function (e) {
      if (e.status !== 409) { fail(e); return; }
      if (e.json.name) { names[e.json.operator] = e.json.name; }
      if (convs[id]) { convs[id].claimed = e.json.operator; }
    }).then(function () {
      renderList();
      if (id === cur) { meta(); }
    });
  }
  function loadCanned() {
    return api('GET', 'canned').then(function (j) {
      canned = (j.canned || []).sort(function (a, b) { return a.title.localeCompare(b.title, lang); });
      cannedList();
    }, function () {});
  }
  /* the dialog: every canned reply with edit and delete, and its form */
  function cannedList() {
    var ul = $('clist');
    ul.textContent = '';
    canned.forEach(function (x) {
      var e = el('button', '', t.edit), d = el('button', 'danger', t.del);
      e.type = d.type = 'button';
      e.onclick = function () { cannedForm(x); };
      d.onclick = function () { api('DELETE', 'canned/' + x.id).then(loadCanned, fail); };
      add(ul, add(el('li', 'canned'), add(el('div', 'ch'), el('strong', '', x.title), e, d), el('div', 'mt', x.text)));
    });
    $('cnone').hidden = canned.length > 0;
  }
  function cannedForm(x) {
    var f = $('cform');
    f.hidden = false;
    f.elements.cid.value = x ? x.id : '';
    f.elements.ctitle.value = x ? x.title : '';
    f.elements.ctext.value = x ? x.text : '';
    f.elements.ctitle.focus();
  }
  function cannedSave(ev) {
    var f = $('cform'), body = { title: f.elements.ctitle.value, text: f.elements.ctext.value };
    ev.preventDefault();
    if (f.elements.cid.value) { body.id = f.elements.cid.value; }
    api('POST', 'canned', body).then(function () { f.hidden = true; return loadCanned(); }).catch(fail);
  }
  /* "/" in the reply (at its start or after a space) opens the menu of
     canned replies whose title has what follows; Enter, Tab or a click
     puts one in its place */
  function slash() {
    var ta = $('text'), before = ta.value.slice(0, ta.selectionStart), m = /(^|\s)\/([^\s\/]*)$/.exec(before);
    var q = m && m[2].toLowerCase(), ul = $('cmenu');
    menu = m ? canned.filter(function (x) { return x.title.toLowerCase().indexOf(q) >= 0; }).slice(0, 8) : null;
    ul.textContent = '';
    ul.hidden = !menu || !menu.length;
    if (ul.hidden) { menu = null; return; }
    menuAt = Math.min(menuAt, menu.length - 1);
    menu.forEach(function (x, i) {
      var li = add(el('li', i === menuAt ? 'on' : ''), el('strong', '', x.title), el('span', '', x.text));
      li.setAttribute('role', 'option');
      li.setAttribute('aria-selected', String(i === menuAt));
      li.onmousedown = function (e) { e.preventDefault(); insert(x); };
      add(ul, li);
    });
  }
  function insert(x) {
    var ta = $('text'), at = ta.selectionStart, before = ta.value.slice(0, at).replace(/\/[^\s\/]*$/, '');
    ta.value = before + x.text + ta.value.slice(at);
    ta.selectionStart = ta.selectionEnd = before.length + x.text.length;
    menu = null;
    $('cmenu').hidden = true;
    ta.focus();
    typing(true);
  }
  function menuKey(e) {
    if (!menu || e.target.id !== 'text') { return; }
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      menuAt = (menuAt + (e.key === 'ArrowDown' ? 1 : menu.length - 1)) % menu.length;
      slash();
    } else if (e.key === 'Enter' || e.key === 'Tab') {
      if (e.isComposing || e.keyCode === 229) { return; }
      insert(menu[menuAt]);
    } else if (e.key === 'Escape') {
      menu = null;
      $('cmenu').hidden = true;
    } else {
      return;
    }
    /* before the reply's own Enter (send) */
    e.preventDefault();
    e.stopPropagation();
  }
  /* the claim button and holder in the header, the canned replies' button,
     menu and dialog: made here so that the page's HTML stays as it is */
  function teamStart(s) {
    var b = el('button', 'claim'), h = el('span', 'tag holder'), cb = el('button', 'cannedb', t.canned),
      ul = el('ul', 'cmenu'), d = el('dialog', 'cdialog'), f = el('form', 'cform'), ti = el('input'),
      tx = el('textarea'), id = el('input'), n = el('button', '', t.cannedNew), x = el('button', '', t.close),
      no = el('button', '', t.cancel), list = el('ul', 'clist'), none = el('p', 'empty', t.noCanned);
    names = s.names || {};
    if (s.name) { $('op').textContent = s.name + ' (' + me + ')'; }
    b.type = cb.type = n.type = x.type = no.type = 'button';
    b.id = 'claim';
    h.id = 'holder';
    h.hidden = true;
    b.onclick = claim;
    $('close').parentNode.insertBefore(h, $('close'));
    $('close').parentNode.insertBefore(b, $('close'));
    cb.id = 'cannedb';
    cb.title = t.cannedHint;
    $('photo').parentNode.insertBefore(cb, $('photo'));
    ul.id = 'cmenu';
    ul.hidden = true;
    ul.setAttribute('role', 'listbox');
    $('reply').appendChild(ul);
    /* the dialog: the list, and the form that creates or edits one */
    d.id = 'canned';
    f.id = 'cform';
    f.hidden = true;
    id.type = 'hidden';
    id.name = 'cid';
    ti.name = 'ctitle';
    ti.maxLength = 100;
    ti.required = tx.required = true;
    tx.name = 'ctext';
    tx.rows = 4;
    add(f, id, add(el('label'), el('span', '', t.title), ti), add(el('label'), el('span', '', t.text), tx),
        add(el('div', 'ch'), el('button', '', t.save), no));
    list.id = 'clist';
    none.id = 'cnone';
    add(d, add(el('div', 'ch'), el('h2', '', t.canned), n, x), none, list, f);
    document.body.appendChild(d);
    no.onclick = function () { f.hidden = true; };
    n.onclick = function () { cannedForm(null); };
    x.onclick = function () { d.close(); };
    f.onsubmit = cannedSave;
    cb.onclick = function () { cannedList(); d.showModal(); };
    $('text').addEventListener('input', function () { menuAt = 0; slash(); });
    $('text').addEventListener('blur', function () { ul.hidden = true; menu = null; });
    $('reply').addEventListener('keydown', menuKey, true);
    loadCanned();
  }
  function start(s) {
    lang = s.lang === 'ja' || s.lang === 'en' ? s.lang : /^ja\b/i.test(navigator.language) ? 'ja' : 'en';
    t = T[lang];
    me = s.operator || '';
    site = s.site || '';
    $('site').textContent = site || 'ChatPort';
    sites = s.sites || null;
    $('op').textContent = me;
    teamStart(s);
    texts();
    totals();
    pres = s.status ? s : pres;
    tools();
    setInterval(function () { session().catch(function () {}); }, 15000);
    setInterval(renderList, 30000);
    loadList().catch(fail).then(function () {
      go(location.hash.slice(1));
      loadForms(false);
      (sites || ['']).forEach(poll);
      if (sites) { siteStart(); }
      /* the poll just parked makes this console count */
      setTimeout(function () { session().catch(function () {}); }, 1000);
    });
  }

  sound = store('sound') !== 'off';
  notifyOn = store('notify') !== 'off';
  seenLi = el('li', 'seen');
  unmute = document.body.insertBefore(el('button', 'unmute'), document.body.firstChild);
  unmute.type = 'button';
  unmute.id = 'unmute';
  unmute.setAttribute('data-t', 'unmute');
  muted();
  function on(id, type, fn) { (typeof id === 'string' ? $(id) : id).addEventListener(type, fn); }
  on('presence', 'click', function () {
    api('POST', 'presence', { status: pres.status === 'online' ? 'away' : 'online' })
      .then(session).catch(fail);
  });
  on('sound', 'click', function () {
    sound = !sound;
    store('sound', sound ? 'on' : 'off');
    unlock();
    tools();
    beep();
  });
  on('unmute', 'click', unlock);
  on(window, 'hashchange', function () { go(location.hash.slice(1)); });
  on('notify', 'click', function () {
    var p;
    if (Notification.permission === 'granted') {
      notifyOn = !notifyOn;
      store('notify', notifyOn ? 'on' : 'off');
      tools();
      return;
    }
    notifyOn = true;
    store('notify', 'on');
    p = Notification.requestPermission(tools);
    if (p && p.then) { p.then(tools); }
  });
  on('photo', 'click', function () { $('file').click(); });
  on('file', 'change', function () { photo($('file').files[0]); $('file').value = ''; });
  on('text', 'paste', function (e) {
    var f = [].filter.call(e.clipboardData && e.clipboardData.files || [], function (x) {
      return /^image\//.test(x.type);
    })[0];
    if (f) { e.preventDefault(); photo(f); }
  });
  on('conv', 'dragover', function (e) { e.preventDefault(); });
  on('conv', 'drop', function (e) {
    e.preventDefault();
    photo(e.dataTransfer && e.dataTransfer.files[0]);
  });
  on('tab-c', 'click', function () { tab('c'); });
  on('tab-f', 'click', function () { tab('f'); });
  on(document.querySelector('.tabs'), 'keydown', function (e) {
    var f = $('tab-c').tabIndex === 0 ? 'f' : 'c';
    if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') { tab(f); $('tab-' + f).focus(); }
  });
  on('back', 'click', function () {
    $('p-c').classList.remove('open');
    if (items[cur]) { items[cur].firstChild.focus(); }
  });
  on('close', 'click', closeConv);
  on('erase', 'click', eraseConv);
  on('data', 'click', dataReq);
  on('aok', 'click', function () { reply('ok'); });
  on('aexp', 'click', function () { reply('export'); });
  on('ano', 'click', function () { reply(null); });
  on('ask', 'close', function () { if (!$('ask').open) { reply(null); } });
  listControls();
  on('reply', 'submit', send);
  on('text', 'input', function () { typing(!!$('text').value); });
  on('text', 'keydown', function (e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229 && !touch()) { send(e); }
  });
  /* not for the prompt itself: hidden before its click, the click would
     reach what lies under it (the canned replies' button on a phone) */
  document.addEventListener('pointerdown', function (e) { if (e.target !== unmute) { unlock(); } }, true);
  document.addEventListener('keydown', unlock, true);
  on(document, 'visibilitychange', function () {
    if (visible() && convs[cur] && convs[cur].pending) { loadMsgs(); }
  });
  texts();
  api('GET', 'session').then(start, function (e) { fail(e); start({}); });
}());
