/* The duty board: polls /api/board and redraws each warning's recipients; every value is set as text. */
(function () {
  'use strict';
  var root = document.getElementById('board');
  var list = document.getElementById('board-warnings');
  var status = document.getElementById('board-status');
  var pollMs = Number(root.getAttribute('data-poll-ms')) || 5000;
  var COLOURS = {red: '红色', orange: '橙色', yellow: '黄色', blue: '蓝色'};
  var ORDER = ['pending', 'delivered', 'acknowledged', 'escalated', 'failed', 'dead', 'cancelled'];
  var KINDS = {department: '部门', department_leader: '部门负责人', person: '责任人', duty_desk: '值班室'};
  var LEVELS = {city: '市', district: '区县', township: '乡镇', village: '村'};
  var clock = new Intl.DateTimeFormat('zh-CN', {
    timeZone: root.getAttribute('data-zone') || 'Asia/Shanghai', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', hour12: false
  });

  function when(iso) { return iso ? clock.format(new Date(iso)) : ''; }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function counts(warning, labels) {
    var row = el('ul', 'counts');
    var total = el('li', 'count count-total');
    total.appendChild(el('b', null, warning.counts.total));
    total.appendChild(el('span', null, '接收人'));
    row.appendChild(total);
    ORDER.forEach(function (state) {
      var item = el('li', 'count state-' + state);
      item.setAttribute('data-count-state', state);
      item.appendChild(el('b', null, warning.counts[state]));
      item.appendChild(el('span', null, labels[state] || state));
      row.appendChild(item);
    });
    var overdue = el('li', 'count count-overdue' + (warning.counts.overdue ? ' alert' : ''));
    overdue.setAttribute('data-count-state', 'overdue');
    overdue.appendChild(el('b', null, warning.counts.overdue));
    overdue.appendChild(el('span', null, '逾期未确认'));
    row.appendChild(overdue);
    return row;
  }

  function escalation(r) {
    if (r.purpose === 'escalation') {
      return '第' + r.escalation_step + '级上报' + (r.escalated_from ? '（' + r.escalated_from + ' 未确认）' : '');
    }
    if (r.escalated_at) { return '已上报上级 ' + when(r.escalated_at); }
    return r.reminders ? '已提醒 ' + r.reminders + ' 次' : '';
  }

  function record(r) {
    var cell = el('td', 'record');
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

  function recipientRow(r, labels) {
    var tr = el('tr', 'state-' + r.state + (r.overdue ? ' overdue' : ''));
    tr.setAttribute('data-recipient-id', r.id);
    tr.setAttribute('data-state', r.state);
    var who = el('td');
    who.appendChild(el('span', 'name', r.recipient_name));
    who.appendChild(el('small', null, KINDS[r.recipient_kind] || r.recipient_kind));
    (r.sms_replies || []).forEach(function (reply) {
      var line = el('small', 'sms-reply', '短信回复：' + reply.text);
      line.setAttribute('data-reply-id', reply.id);
      line.setAttribute('title', '收到于 ' + when(reply.received_at) + '，待核实');
      who.appendChild(line);
    });
    tr.appendChild(who);
    tr.appendChild(el('td', null, r.unit_name || (r.level && LEVELS[r.level]) || ''));
    tr.appendChild(el('td', null, r.channel));
    var state = el('td', 'state');
    state.appendChild(el('span', 'pill pill-' + r.state, labels[r.state] || r.state));
    if (r.overdue) { state.appendChild(el('span', 'pill pill-overdue', '逾期')); }
    if (r.acked_late) { state.appendChild(el('span', 'pill pill-late', '逾期确认')); }
    if (r.acked_via === 'sms') { state.appendChild(el('span', 'pill pill-sms', '短信回复确认')); }
    tr.appendChild(state);
    tr.appendChild(el('td', null, when(r.delivered_at)));
    tr.appendChild(el('td', null, when(r.ack_deadline)));
    tr.appendChild(el('td', null, when(r.acked_at)));
    tr.appendChild(el('td', null, escalation(r)));
    tr.appendChild(record(r));
    tr.appendChild(el('td', 'error', r.last_error || ''));
    return tr;
  }

  function warningCard(w, labels) {
    var card = el('article', 'warning colour-' + (w.colour || 'none') + (w.status === 'active' ? '' : ' closed'));
    card.setAttribute('data-warning-id', w.id);
    var head = el('header');
    head.appendChild(el('span', 'badge badge-' + (w.colour || 'none'), w.event + (COLOURS[w.colour] || '') + '预警'));
    head.appendChild(el('h3', null, w.headline || w.identifier));
    head.appendChild(el('span', 'status status-' + w.status, w.status_label));
    card.appendChild(head);
    var period = '发布 ' + when(w.sent) + (w.expires ? '　失效 ' + when(w.expires) : '') +
      (w.closed_at ? '　结束 ' + when(w.closed_at) : '') + '　' + (w.sender_name || '');
    card.appendChild(el('p', 'meta', period));
    if (w.jurisdiction === 'unlocated' && w.status === 'active') {
      var unplaced = el('p', 'alert', '区域无法定位：已通知市防汛值班室，尚未通知部门和责任人。');
      var link = el('a', null, '人工指定影响区划');
      link.setAttribute('href', '/warnings/' + w.id + '/assign');
      unplaced.appendChild(document.createTextNode(' '));
      unplaced.appendChild(link);
      card.appendChild(unplaced);
    }
    card.appendChild(counts(w, labels));
    var table = el('table', 'recipients');
    var headRow = el('tr');
    ['接收人', '区划', '渠道', '状态', '送达', '确认时限', '确认时间', '提醒/上报', '叫应记录', '说明'].forEach(function (text) {
      headRow.appendChild(el('th', null, text));
    });
    table.appendChild(el('thead')).appendChild(headRow);
    var body = el('tbody');
    w.recipients.forEach(function (r) { body.appendChild(recipientRow(r, labels)); });
    table.appendChild(body);
    card.appendChild(table);
    if (w.counts.total > w.recipients_shown) {
      card.appendChild(el('p', 'more', '另有 ' + (w.counts.total - w.recipients_shown) + ' 个接收人未列出（已列出最需关注的）'));
    }
    return card;
  }

  function unmatchedReplies(replies, hours) {
    var box = el('section', 'sms-unmatched');
    box.setAttribute('id', 'sms-unmatched');
    box.appendChild(el('h3', null, '未关联预警的短信回复（近 ' + hours + ' 小时）'));
    var table = el('table', 'recipients');
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

  function render(data) {
    var fragment = document.createDocumentFragment();
    if (data.held_back && data.held_back.length) { fragment.appendChild(heldBack(data.held_back)); }
    if (!data.warnings.length) {
      fragment.appendChild(el('p', 'empty', '当前没有生效中的预警，近 ' + data.recent_hours + ' 小时内也没有结束的预警。'));
    }
    data.warnings.forEach(function (w) { fragment.appendChild(warningCard(w, data.state_labels)); });
    if (data.sms_replies_unmatched && data.sms_replies_unmatched.length) {
      fragment.appendChild(unmatchedReplies(data.sms_replies_unmatched, data.recent_hours));
    }
    list.replaceChildren(fragment);
    status.textContent = '更新于 ' + when(data.as_of) + '，每 ' + Math.round(pollMs / 1000) + ' 秒自动刷新';
    status.className = '';
    root.setAttribute('data-board-ready', 'true');
  }

  function failed(text) {
    status.textContent = text;
    status.className = 'alert';
  }

  function refresh() {
    fetch('/api/board', {credentials: 'same-origin', cache: 'no-store', headers: {'Accept': 'application/json'}})
      .then(function (response) {
        if (response.status === 401) {
          failed('登录已过期，请重新登录后刷新本页');
          return null;
        }
        if (!response.ok) { throw new Error('HTTP ' + response.status); }
        return response.json();
      })
      .then(function (data) { if (data) { render(data); } })
      .catch(function (error) { failed('刷新失败，稍后自动重试（' + error.message + '）'); })
      .then(function () { window.setTimeout(refresh, pollMs); });
  }

  refresh();
}());
