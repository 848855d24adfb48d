/* The duty board: one warning thread at a time (its timeline, its recipients grouped district → township → village
   with counts, collapsed), filtered and paged by the server; refreshed every few seconds.
   Every value is set as text. */
(function () {
  'use strict';
  var root = document.getElementById('board');
  var status = document.getElementById('board-status');
  var threadList = document.getElementById('thread-list');
  var threadBox = document.getElementById('thread');
  var groupsBox = document.getElementById('groups');
  var resultsBox = document.getElementById('search-results');
  var form = document.getElementById('filters');
  var pollMs = Number(root.getAttribute('data-poll-ms')) || 5000;
  var COLOURS = {red: '红色', orange: '橙色', yellow: '黄色', blue: '蓝色'};
  var KINDS = {department: '部门值班', department_leader: '部门负责人', person: '责任人', duty_desk: '值班室',
    duty_leader: '带班领导'};
  var CHIPS = ['unacknowledged', 'overdue', 'acknowledged', 'escalated', 'failed', 'unreachable', 'informed',
    'cancelled'];
  var ALERTING = {overdue: true, failed: true, unreachable: true};
  var clock = new Intl.DateTimeFormat('zh-CN', {
    timeZone: root.getAttribute('data-zone') || 'Asia/Shanghai', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', hour12: false
  });
  var board = {labels: {}, countLabels: {}, threads: [], thread: null};
  // The groups opened stay open while filters come and go (and groups with them), until another thread is chosen.
  var view = {threadId: null, scope: null, pages: {}, open: {}, generation: 0, timer: null, busy: false};

  function when(iso) { return iso ? clock.format(new Date(iso)) : ''; }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function getJSON(path, params) {
    var query = new URLSearchParams();
    Object.keys(params || {}).forEach(function (key) {
      if (params[key] !== null && params[key] !== undefined && params[key] !== '') { query.set(key, params[key]); }
    });
    var url = path + (query.toString() ? '?' + query.toString() : '');
    return fetch(url, {credentials: 'same-origin', cache: 'no-store', headers: {'Accept': 'application/json'}})
      .then(function (response) {
        if (response.status === 401) { throw new Error('登录已过期，请重新登录后刷新本页'); }
        if (!response.ok) {
          return response.json().catch(function () { return {}; }).then(function (body) {
            throw new Error(body.detail || ('HTTP ' + response.status));
          });
        }
        return response.json();
      });
  }

  function filters() {
    return {
      filter: form.elements.filter.value, level: form.elements.level.value,
      department: form.elements.department.value, q: form.elements.q.value.trim()
    };
  }

  function scoped(extra) {
    var params = filters();
    params.message = view.scope;
    Object.keys(extra || {}).forEach(function (key) { params[key] = extra[key]; });
    return params;
  }

  function threadPath(suffix) { return '/api/board/threads/' + view.threadId + (suffix || ''); }

  // --- counts ------------------------------------------------------------------------------------------

  // A message whose notifications are still being written (most urgent first): its counts are not its total yet.
  function expandingText(x) {
    return '正在生成通知 ' + x.written + ' 条（区划 ' + x.units_done + '/' + x.units_total + '）';
  }

  function chips(counts, className) {
    var list = el('span', className || 'chips');
    var total = el('span', 'chip chip-total');
    total.setAttribute('data-count', 'total');
    total.appendChild(el('b', null, counts.total));
    total.appendChild(el('span', null, ' 人'));
    list.appendChild(total);
    CHIPS.forEach(function (key) {
      if (!counts[key]) { return; }
      var chip = el('span', 'chip chip-' + key + (ALERTING[key] ? ' alert' : ''));
      chip.setAttribute('data-count', key);
      chip.appendChild(el('span', null, (board.countLabels[key] || key) + ' '));
      chip.appendChild(el('b', null, counts[key]));
      list.appendChild(chip);
    });
    return list;
  }

  // --- the held-back lines and the SMS replies tied to no warning ---------------------------------------

  function heldBack(lines) {
    var box = el('section', 'held-back');
    box.setAttribute('id', 'held-back');
    lines.forEach(function (line) {
      var p = el('p', 'alert', line.blocked ?
        line.kind_label + ' ' + line.channel + ' 因发送过快被平台暂停：' + line.waiting + ' 条等待，预计 ' +
          when(line.until) + ' 恢复发送' :
        line.kind_label + ' ' + line.channel + ' 限速：' + line.waiting + ' 条等待发送，预计 ' +
          when(line.until) + ' 前发完（每分钟 ' + line.per_minute + ' 条）');
      p.setAttribute('data-channel', line.channel);
      box.appendChild(p);
    });
    return box;
  }

  function unmatchedReplies(replies, hours) {
    var box = el('section', 'sms-unmatched');
    box.setAttribute('id', 'sms-unmatched');
    box.appendChild(el('h3', null, '未关联预警的短信回复（近 ' + hours + ' 小时）'));
    var table = el('table', 'replies');
    var headRow = el('tr');
    ['收到时间', '发送人', '号码', '内容', '说明'].forEach(function (text) { headRow.appendChild(el('th', null, text)); });
    table.appendChild(el('thead')).appendChild(headRow);
    var body = el('tbody');
    replies.forEach(function (reply) {
      var tr = el('tr', reply.known ? 'sms-known' : 'sms-unknown');
      tr.setAttribute('data-reply-id', reply.id);
      tr.appendChild(el('td', null, when(reply.received_at)));
      tr.appendChild(el('td', null, reply.known ? reply.sender_name : '未知号码'));
      tr.appendChild(el('td', null, reply.phone_masked));
      tr.appendChild(el('td', null, reply.text));
      tr.appendChild(el('td', null, (reply.is_ack ? '确认回复，' : '') +
        (reply.known ? '该号码当前没有生效中的预警通知' : '号码不在名录和通知中')));
      body.appendChild(tr);
    });
    table.appendChild(body);
    box.appendChild(table);
    return box;
  }

  // --- the thread picker ---------------------------------------------------------------------------------

  function threadTitle(t) {
    return t.event + (t.colour_label || '') + (t.response ? '通知' : '预警');
  }

  function renderThreads(data) {
    var fragment = document.createDocumentFragment();
    if (!data.threads.length) {
      var none = el('li', 'empty', '当前没有生效中的预警，近 ' + data.recent_hours + ' 小时内也没有结束的预警。');
      none.setAttribute('id', 'no-threads');
      fragment.appendChild(none);
    }
    data.threads.forEach(function (t) {
      var item = el('li');
      var button = el('button', 'thread colour-' + (t.colour || 'none') + (t.status === 'active' ? '' : ' ended'));
      button.type = 'button';
      button.setAttribute('data-thread-id', t.thread_id);
      button.setAttribute('aria-pressed', String(t.thread_id === view.threadId));
      var head = el('span', 'thread-title');
      head.appendChild(el('span', 'badge badge-' + (t.colour || 'none'), threadTitle(t)));
      head.appendChild(el('span', 'status status-' + t.status, t.status_label));
      button.appendChild(head);
      button.appendChild(el('span', 'thread-areas', (t.areas.join('、') || t.headline)));
      button.appendChild(el('span', 'thread-meta',
        t.last_step + ' ' + when(t.updated) + ' · 共 ' + t.messages + ' 条消息'));
      var line = el('span', 'thread-counts');
      line.appendChild(el('span', null, '待确认 ' + t.counts.unacknowledged));
      if (t.counts.overdue) { line.appendChild(el('span', 'alert', ' · 逾期 ' + t.counts.overdue)); }
      line.appendChild(el('span', null, ' · 已确认 ' + t.counts.acknowledged + '/' + t.counts.total));
      if (t.expanding) { line.appendChild(el('span', 'expanding', ' · ' + expandingText(t.expanding))); }
      button.appendChild(line);
      button.addEventListener('click', function () { chooseThread(t.thread_id); });
      item.appendChild(button);
      fragment.appendChild(item);
    });
    threadList.replaceChildren(fragment);
  }

  // --- one thread: head, timeline, scope, filters ------------------------------------------------------------

  function renderHead(t) {
    var head = document.getElementById('thread-head');
    var parts = document.createDocumentFragment();
    parts.appendChild(el('span', 'badge badge-' + (t.colour || 'none'), threadTitle(t)));
    parts.appendChild(el('h3', null, t.headline));
    parts.appendChild(el('span', 'status status-' + t.status, t.status_label));
    parts.appendChild(el('p', 'meta', (t.areas.length ? '区域：' + t.areas.join('、') + '　' : '') +
      '首发 ' + when(t.sent) + (t.closed_at && t.status !== 'active' ? '　结束 ' + when(t.closed_at) : '') +
      '　' + (t.sender_name || '')));
    head.className = 'colour-' + (t.colour || 'none');
    head.replaceChildren(parts);
    var unplaced = document.getElementById('thread-unlocated');
    if (t.unlocated_id) {
      unplaced.replaceChildren(document.createTextNode('区域无法定位：已通知市防汛值班室，尚未通知部门和责任人。 '));
      var link = el('a', null, '人工指定影响区划');
      link.setAttribute('href', '/warnings/' + t.unlocated_id + '/assign');
      unplaced.appendChild(link);
      unplaced.hidden = false;
    } else {
      unplaced.hidden = true;
    }
  }

  function currentScope(t) { return view.scope || String(t.focus_id); }

  function renderTimeline(t) {
    var scope = currentScope(t);
    var fragment = document.createDocumentFragment();
    t.timeline.forEach(function (m) {
      var item = el('li', 'tl-item step-' + m.step + ' colour-' + (m.colour || 'none'));
      item.setAttribute('data-message-id', m.id);
      item.setAttribute('data-step', m.step);
      var button = el('button', 'tl-select');
      button.type = 'button';
      button.setAttribute('aria-pressed', String(scope === String(m.id)));
      button.appendChild(el('time', null, when(m.sent)));
      button.appendChild(el('span', 'tl-step', m.step_label + (m.colour_label ? ' · ' + m.colour_label : '')));
      button.appendChild(el('span', 'tl-headline', m.headline));
      button.appendChild(el('span', 'tl-counts', m.status_label + ' · 接收人 ' + m.counts.total +
        ' · 已确认 ' + m.counts.acknowledged + (m.counts.overdue ? ' · 逾期 ' + m.counts.overdue : '') +
        (m.counts.escalated ? ' · 已上报 ' + m.counts.escalated : '') +
        (m.expanding ? ' · ' + expandingText(m.expanding) : '')));
      button.addEventListener('click', function () { chooseScope(String(m.id)); });
      item.appendChild(button);
      fragment.appendChild(item);
    });
    document.getElementById('timeline').replaceChildren(fragment);
    var scopeBox = document.getElementById('scope');
    var shown = scope === 'all' ? '全部消息' :
      (t.timeline.filter(function (m) { return String(m.id) === scope; }).map(function (m) {
        return m.step_label + (m.colour_label ? m.colour_label : '') + '（' + when(m.sent) + '）';
      })[0] || '');
    var label = el('span', 'scope-label', '接收人：' + shown);
    var all = el('button', 'scope-all', '全部消息（' + t.timeline.length + ' 条）');
    all.type = 'button';
    all.setAttribute('aria-pressed', String(scope === 'all'));
    all.addEventListener('click', function () { chooseScope('all'); });
    var parts = [label];
    if (t.timeline.length > 1) { parts.push(all); }
    scopeBox.replaceChildren.apply(scopeBox, parts);
    var counts = scope === 'all' ? t.all_counts :
      (t.timeline.filter(function (m) { return String(m.id) === scope; })[0] || {counts: t.all_counts}).counts;
    var totals = chips(counts, 'chips totals');
    totals.setAttribute('id', 'totals');
    document.getElementById('totals').replaceWith(totals);
  }

  function fillSelect(select, options) {
    var signature = JSON.stringify(options);
    if (select.getAttribute('data-options') === signature) { return; }
    var chosen = select.value;
    var known = {};
    var nodes = [el('option', null, select.getAttribute('data-all') || '全部')];
    nodes[0].value = '';
    options.forEach(function (option) {
      var node = el('option', null, option[1]);
      node.value = option[0];
      known[option[0]] = true;
      nodes.push(node);
    });
    select.replaceChildren.apply(select, nodes);
    select.value = known[chosen] ? chosen : '';
    select.setAttribute('data-options', signature);
  }

  function fillFilters(data, t) {
    fillSelect(form.elements.filter, Object.keys(data.filters).map(function (k) { return [k, data.filters[k]]; }));
    fillSelect(form.elements.level, Object.keys(data.levels).map(function (k) { return [k, data.levels[k]]; }));
    if (t) {
      fillSelect(form.elements.department, t.departments.map(function (d) { return [d.key, d.name]; }));
    }
  }

  // --- recipients ------------------------------------------------------------------------------------------

  function escalation(r) {
    if (r.purpose === 'escalation') {
      return '第' + r.escalation_step + '级上报' + (r.escalated_from ? '（' + r.escalated_from + ' 未确认）' : '');
    }
    if (r.escalated_at) { return '已上报上级 ' + when(r.escalated_at); }
    return r.reminders ? '已提醒 ' + r.reminders + ' 次' : '';
  }

  function record(r) {
    var cell = el('td', 'record');
    cell.setAttribute('data-label', '叫应记录');
    var rec = r.record;
    if (!rec) { return cell; }
    if (rec.call_count) {
      var calls = '电话 ' + rec.call_count + ' 次' + (rec.redials ? '（重拨 ' + rec.redials + ' 次）' : '') +
        '，首次 ' + when(rec.first_called_at) + '：' +
        rec.calls.map(function (c) { return c.status_label + (c.keys ? '（按键 ' + c.keys + '）' : ''); }).join('、');
      cell.appendChild(el('small', 'record-calls', calls));
    }
    rec.sms_replies.forEach(function (reply) {
      cell.appendChild(el('small', 'record-sms', '短信回复 ' + when(reply.received_at) + '：' + reply.text));
    });
    if (rec.ack) {
      cell.appendChild(el('small', 'record-ack', rec.ack.label + '确认 ' + when(rec.ack.at)));
    }
    rec.told_above.forEach(function (up) {
      cell.appendChild(el('small', 'record-above', '已报告上级 ' + up.recipient_name + ' ' + when(up.told_at) +
        (up.acked_at ? '（已确认）' : '')));
    });
    return cell;
  }

  function cell(label, text, className) {
    var td = el('td', className || null, text);
    td.setAttribute('data-label', label);
    return td;
  }

  function deadline(r) {
    var td = cell('确认时限', when(r.ack_deadline), 'deadline');
    if (r.reminders && r.first_deadline && r.first_deadline !== r.ack_deadline) {
      td.appendChild(el('small', 'first-deadline', '原时限 ' + when(r.first_deadline) + '，提醒后顺延'));
    }
    return td;
  }

  function messageLabel(warningId) {
    var t = board.thread;
    var m = t && t.timeline.filter(function (item) { return item.id === warningId; })[0];
    return m ? m.step_label + ' ' + when(m.sent) : '';
  }

  function recipientRow(r) {
    var tr = el('tr', 'state-' + r.state + (r.overdue ? ' overdue' : ''));
    tr.setAttribute('data-recipient-id', r.id);
    tr.setAttribute('data-state', r.state);
    var who = el('td', 'who');
    who.setAttribute('data-label', '接收人');
    // A stand-in's name says for whom (李四（代 张三，请假至 12月9日）); an absent person with nobody to stand in
    // is marked too (张三（请假至 12月9日，无人代理）): plans/absence_rules.py writes both.
    var away = /（代 |，无人代理）$/.test(r.recipient_name);
    who.appendChild(el('span', away ? 'name stand-in' : 'name', r.recipient_name));
    who.appendChild(el('small', null, (KINDS[r.recipient_kind] || r.recipient_kind) +
      (r.phone_masked ? ' · ' + r.phone_masked : '')));
    (r.sms_replies || []).forEach(function (reply) {
      var line = el('small', 'sms-reply', '短信回复：' + reply.text);
      line.setAttribute('data-reply-id', reply.id);
      line.setAttribute('title', '收到于 ' + when(reply.received_at) + '，待核实');
      who.appendChild(line);
    });
    tr.appendChild(who);
    tr.appendChild(cell('区划', r.place || '', 'place'));
    if (view.scope === 'all') { tr.appendChild(cell('消息', messageLabel(r.warning_id), 'message')); }
    tr.appendChild(cell('渠道', r.channel));
    var state = cell('状态', null, 'state');
    state.appendChild(el('span', 'pill pill-' + r.state, board.labels[r.state] || r.state));
    if (r.overdue) { state.appendChild(el('span', 'pill pill-overdue', '逾期')); }
    if (r.unreachable) { state.appendChild(el('span', 'pill pill-unreachable', '无联系方式')); }
    if (r.acked_late) { state.appendChild(el('span', 'pill pill-late', '逾期确认')); }
    if (r.acked_via === 'sms') { state.appendChild(el('span', 'pill pill-sms', '短信回复确认')); }
    tr.appendChild(state);
    tr.appendChild(cell('送达', when(r.delivered_at)));
    tr.appendChild(deadline(r));
    tr.appendChild(cell('确认时间', when(r.acked_at)));
    tr.appendChild(cell('提醒/上报', escalation(r)));
    tr.appendChild(record(r));
    tr.appendChild(cell('说明', r.last_error || '', 'error'));
    return tr;
  }

  function recipientTable(data, onPage) {
    var box = document.createDocumentFragment();
    if (!data.items.length) {
      box.appendChild(el('p', 'empty', '没有符合条件的接收人。'));
      return box;
    }
    var table = el('table', 'recipients');
    var headRow = el('tr');
    var heads = ['接收人', '区划'].concat(view.scope === 'all' ? ['消息'] : [])
      .concat(['渠道', '状态', '送达', '确认时限', '确认时间', '提醒/上报', '叫应记录', '说明']);
    heads.forEach(function (text) { headRow.appendChild(el('th', null, text)); });
    table.appendChild(el('thead')).appendChild(headRow);
    var body = el('tbody');
    data.items.forEach(function (r) { body.appendChild(recipientRow(r)); });
    table.appendChild(body);
    box.appendChild(table);
    if (data.pages > 1) {
      var pager = el('p', 'pager');
      var back = el('button', 'page-back', '上一页');
      back.type = 'button';
      back.disabled = data.page <= 1;
      back.addEventListener('click', function () { onPage(data.page - 1); });
      var next = el('button', 'page-next', '下一页');
      next.type = 'button';
      next.disabled = data.page >= data.pages;
      next.addEventListener('click', function () { onPage(data.page + 1); });
      pager.appendChild(back);
      pager.appendChild(el('span', 'page-of', '第 ' + data.page + ' / ' + data.pages + ' 页，共 ' + data.total + ' 人'));
      pager.appendChild(next);
      box.appendChild(pager);
    }
    return box;
  }

  // --- groups: collapsed details, their children or rows fetched when opened ---------------------------------

  function groupNode(g) {
    var details = el('details', 'group group-' + g.kind);
    details.setAttribute('data-group', g.key);
    details.appendChild(el('summary'));
    details.appendChild(el('div', 'group-body'));
    details.addEventListener('toggle', function () {
      if (details.open) {
        view.open[g.key] = true;
        loadGroup(details, view.generation);
      } else {
        delete view.open[g.key];
        delete view.pages[g.key];
      }
    });
    details.open = Boolean(view.open[g.key]);  // its toggle event loads it
    return details;
  }

  function fillSummary(details, g) {
    details.group = g;
    var summary = details.querySelector('summary');
    var label = el('span', 'group-label', g.label);
    summary.replaceChildren(label, chips(g.counts, 'chips group-counts'));
  }

  function renderGroups(container, groups, generation) {
    var existing = {};
    Array.prototype.forEach.call(container.children, function (node) {
      if (node.matches && node.matches('details.group')) { existing[node.getAttribute('data-group')] = node; }
    });
    var reused = [];
    var nodes = groups.map(function (g) {
      var node = existing[g.key];
      if (node) { reused.push(node); } else { node = groupNode(g); }
      fillSummary(node, g);
      return node;
    });
    if (!groups.length) {
      nodes.push(el('p', 'empty', filtersSet() ? '没有符合条件的接收人。' : '没有接收人。'));
    }
    container.replaceChildren.apply(container, nodes);
    var open = reused.filter(function (node) { return node.open; });
    return Promise.all(open.map(function (node) { return loadGroup(node, generation); }));
  }

  function loadGroup(details, generation) {
    var g = details.group;
    var body = details.querySelector('.group-body');
    if (!body.firstChild) { body.appendChild(el('p', 'loading', '正在载入……')); }
    if (g.has_children) {
      return getJSON(threadPath('/groups'), scoped({parent: g.key})).then(function (data) {
        if (generation !== view.generation) { return null; }
        return renderGroups(body, data.groups, generation);
      }).catch(failed);
    }
    var page = view.pages[g.key] || 1;
    view.pages[g.key] = page;
    return getJSON(threadPath('/recipients'), scoped({group: g.key, page: page})).then(function (data) {
      if (generation !== view.generation) { return; }
      body.replaceChildren(recipientTable(data, function (to) {
        view.pages[g.key] = to;
        loadGroup(details, view.generation);
      }));
    }).catch(failed);
  }

  function filtersSet() {
    var f = filters();
    return Boolean(f.filter || f.level || f.department || f.q);
  }

  function loadResults(generation) {
    var q = filters().q;
    if (!q) {
      resultsBox.hidden = true;
      groupsBox.hidden = false;
      return Promise.resolve();
    }
    var page = view.pages['search'] || 1;
    return getJSON(threadPath('/recipients'), scoped({page: page})).then(function (data) {
      if (generation !== view.generation) { return; }
      var box = document.createDocumentFragment();
      box.appendChild(el('h4', null, '搜索“' + q + '”：' + data.total + ' 人'));
      box.appendChild(recipientTable(data, function (to) {
        view.pages['search'] = to;
        loadResults(view.generation);
      }));
      resultsBox.replaceChildren(box);
      resultsBox.hidden = false;
      groupsBox.hidden = true;
    });
  }

  // --- loading and choosing -----------------------------------------------------------------------------------

  function loadThread(generation) {
    if (view.threadId === null) {
      threadBox.hidden = true;
      return Promise.resolve();
    }
    return Promise.all([getJSON(threadPath()), getJSON(threadPath('/groups'), scoped())]).then(function (both) {
      if (generation !== view.generation) { return null; }
      var t = both[0];
      board.thread = t;
      if (view.threadId !== t.thread_id) { view.threadId = t.thread_id; }
      renderHead(t);
      renderTimeline(t);
      fillFilters(board.data, t);
      markThread();
      threadBox.hidden = false;
      var groups = both[1];
      var total = groups.groups.reduce(function (sum, g) { return sum + g.counts.total; }, 0);
      document.getElementById('filter-summary').textContent = groups.filtered ? '符合条件：' + total + ' 人' : '';
      var shown = Promise.all([renderGroups(groupsBox, groups.groups, generation), loadResults(generation)]);
      if (!groupsBox.hasAttribute('data-groups-ready')) {
        groupsBox.setAttribute('data-groups-ready', 'true');
        // At the next frame, the group list in the page: the benchmark reads it (tests/bench/bench_board.py).
        window.requestAnimationFrame(function () { performance.mark('board-groups-shown'); });
      }
      return shown;
    });
  }

  // #thread-N: a thread; #warning-N (the event page, the assignment of units) or ?warning=N (the overview, the entry
  // page): the thread of message N, showing that message's recipients. The hash wins: choosing a thread writes it.
  function fromHash() {
    var match = /^#(thread|warning)-(\d+)$/.exec(window.location.hash);
    if (match) { return {id: Number(match[2]), message: match[1] === 'warning' ? match[2] : null}; }
    var query = new URLSearchParams(window.location.search).get('warning');
    return query && /^\d+$/.test(query) ? {id: Number(query), message: query} : null;
  }

  function markThread() {
    Array.prototype.forEach.call(threadList.querySelectorAll('button.thread'), function (button) {
      button.setAttribute('aria-pressed', String(Number(button.getAttribute('data-thread-id')) === view.threadId));
    });
  }

  function chooseThread(id, message) {
    view.threadId = id;
    view.scope = message || null;
    view.pages = {};
    view.open = {};
    view.generation += 1;
    groupsBox.replaceChildren();
    resultsBox.replaceChildren();
    if (!message) { history.replaceState(null, '', '#thread-' + id); }
    markThread();
    loadThread(view.generation).catch(failed);
  }

  function chooseScope(scope) {
    view.scope = scope;
    restart();
  }

  // Filters and scope apply to the groups as they are: those left open stay open, from their first page.
  function restart() {
    view.pages = {};
    view.generation += 1;
    loadThread(view.generation).catch(failed);
  }

  function failed(error) {
    status.textContent = '刷新失败，稍后自动重试（' + error.message + '）';
    status.className = 'alert';
  }

  function refresh() {
    if (view.busy) { return; }
    view.busy = true;
    var generation = view.generation;
    getJSON('/api/board/threads').then(function (data) {
      board.data = data;
      board.labels = data.state_labels;
      board.countLabels = data.count_labels;
      board.threads = data.threads;
      document.getElementById('held-back-slot').replaceChildren(
        data.held_back && data.held_back.length ? heldBack(data.held_back) : '');
      document.getElementById('sms-unmatched-slot').replaceChildren(
        data.sms_replies_unmatched && data.sms_replies_unmatched.length ?
          unmatchedReplies(data.sms_replies_unmatched, data.recent_hours) : '');
      if (view.threadId === null) {
        var linked = fromHash();
        view.threadId = linked ? linked.id : (data.threads.length ? data.threads[0].thread_id : null);
        view.scope = linked ? linked.message : null;
      }
      renderThreads(data);
      fillFilters(data, null);
      return loadThread(generation);
    }).then(function () {
      status.textContent = '更新于 ' + when(board.data.as_of) + '，每 ' + Math.round(pollMs / 1000) + ' 秒自动刷新';
      status.className = '';
      root.setAttribute('data-board-ready', 'true');
    }).catch(failed).then(function () {
      view.busy = false;
      window.clearTimeout(view.timer);
      view.timer = window.setTimeout(refresh, pollMs);
    });
  }

  var typing = null;
  form.addEventListener('submit', function (event) { event.preventDefault(); restart(); });
  form.addEventListener('change', function (event) { if (event.target.name !== 'q') { restart(); } });
  form.addEventListener('input', function (event) {
    if (event.target.name !== 'q') { return; }
    window.clearTimeout(typing);
    typing = window.setTimeout(restart, 300);
  });
  form.addEventListener('reset', function () { window.setTimeout(restart, 0); });
  window.addEventListener('hashchange', function () {
    var linked = fromHash();
    if (linked && (linked.id !== view.threadId || linked.message)) { chooseThread(linked.id, linked.message); }
  });

  refresh();
}());
