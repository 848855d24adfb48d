/* The warning entry page: the map to draw the area on (district outlines from /api/units.geojson), the preview of
   who will be told (POST /warnings/new/preview: the API's rules and dry run), each error beside its field, then
   确认发布 posts the form. Every value is set as text. */
(function () {
  'use strict';
  // Where an error of a field is shown (routes_warning_entry.SLOTS): the first slot the field is in.
  var SLOTS = ['areas.unit_codes', 'areas.polygon', 'areas.description', 'areas', 'event', 'colour', 'status',
               'onset', 'expires', 'headline', 'description', 'instruction'];
  var CITY_VIEW = [34.75, 113.65];
  var form = document.getElementById('entry-form');
  var message = document.getElementById('entry-message');
  var preview = document.getElementById('entry-preview');
  var previewButton = document.getElementById('preview-button');
  var confirmButton = document.getElementById('confirm-button');
  var previewState = document.getElementById('preview-state');
  var polygonInput = document.getElementById('polygon');
  var previewed = false, asked = 0, drawing = null;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function slotOf(field) {
    for (var i = 0; i < SLOTS.length; i++) {
      var slot = SLOTS[i];
      if (field === slot || field.indexOf(slot + '.') === 0 || field.indexOf(slot + '[') === 0) { return slot; }
    }
    return '';
  }

  function clearErrors() {
    Array.prototype.forEach.call(form.querySelectorAll('.field-error'), function (node) {
      node.hidden = true;
      node.textContent = '';
    });
    Array.prototype.forEach.call(form.querySelectorAll('.has-error'), function (node) {
      node.classList.remove('has-error');
    });
    message.hidden = true;
    message.textContent = '';
  }

  function showError(field, detail) {
    var slot = slotOf(field || '');
    var target = slot ? form.querySelector('[data-error-for="' + slot + '"]') : null;
    if (!target) {
      message.textContent = detail;
      message.hidden = false;
      message.scrollIntoView({block: 'center'});
      return;
    }
    var wrapper = form.querySelector('[data-field="' + slot + '"]');
    target.textContent = detail;
    target.hidden = false;
    wrapper.classList.add('has-error');
    wrapper.scrollIntoView({block: 'center'});
    var input = wrapper.querySelector('input:not([type=hidden]), select, textarea');
    if (input) { input.focus({preventScroll: true}); }
  }

  function stale() {
    if (!previewed) { return; }
    previewed = false;
    preview.hidden = true;
    confirmButton.disabled = true;
    previewState.textContent = '内容已修改，请重新预览';
  }

  function row(cells, attribute, value) {
    var tr = el('tr');
    if (attribute) { tr.setAttribute(attribute, value); }
    cells.forEach(function (cell, index) { tr.appendChild(el('td', index ? 'n' : null, cell)); });
    return tr;
  }

  function fill(tbody, rows, empty, columns) {
    tbody.textContent = '';
    rows.forEach(function (tr) { tbody.appendChild(tr); });
    if (!rows.length) {
      var tr = el('tr'), td = el('td', null, empty);
      td.colSpan = columns;
      tr.appendChild(td);
      tbody.appendChild(tr);
    }
  }

  function notes(data) {
    var r = data.recipients, found = [];
    if (data.jurisdiction === 'outside') { found.push('所划区域不在本辖区内：预警会按辖区外预警保存，不通知任何人。'); }
    if (data.jurisdiction === 'unlocated') { found.push('区域无法定位：只通知市防指办值班室，由其指定区划。'); }
    if (r.unreachable.length) {
      found.push(r.unreachable.length + ' 名责任人没有可用联系方式：通知将直接记为失败并逐级上报。');
    }
    if (r.units_without_persons.length) {
      found.push(r.units_without_persons.length + ' 个区划没有登记责任人，这些区划无人接收通知。');
    }
    return found.concat(data.notes || []);
  }

  function showPreview(data) {
    var r = data.recipients;
    var areas = data.areas.map(function (area) { return area.description; }).filter(Boolean).join('；');
    document.getElementById('preview-headline').textContent = data.headline + (areas ? '（影响区域：' + areas + '）' : '');
    document.getElementById('preview-summary').textContent = data.jurisdiction_label + ' · 影响 ' + data.unit_count +
      ' 个区划 · 将发出 ' + r.notifications + ' 条通知（' + r.by_department.length + ' 个部门、' + r.persons + ' 名责任人）';
    var total = {units: 0, persons: 0, notifications: 0};
    var levels = r.by_level.map(function (level) {
      total.units += level.units;
      total.persons += level.persons;
      total.notifications += level.notifications;
      return row([level.level_label, level.units, level.persons, level.notifications], 'data-level', level.level);
    });
    if (levels.length) {
      levels.push(row(['合计', total.units, total.persons, total.notifications], 'data-level', 'total'));
    }
    fill(document.querySelector('#preview-levels tbody'), levels, '没有影响的区划', 4);
    fill(document.querySelector('#preview-departments tbody'), r.by_department.map(function (department) {
      return row([department.name, department.notifications], 'data-department', department.key);
    }), '不通知任何部门', 2);
    var list = document.getElementById('preview-notes');
    list.textContent = '';
    notes(data).forEach(function (text) { list.appendChild(el('li', null, text)); });
  }

  function answer(response) {
    var type = response.headers.get('Content-Type') || '';
    if (type.indexOf('application/json') === -1) {
      var problem = new Error('not json');
      problem.detail = response.status === 401 ? '登录已过期，请重新登录后再预览' : '预览失败（' + response.status + '），请稍后重试';
      throw problem;
    }
    return response.json().then(function (data) { return {ok: response.ok, data: data}; });
  }

  function askPreview() {
    var mine = ++asked;
    clearErrors();
    // A polygon still being drawn is closed first; one of fewer than 3 points cannot be.
    if (drawing && drawing.drawing && !drawing.finish()) {
      showError('areas.polygon', '所划区域至少需要 3 个顶点：请继续在地图上点击，或点“清除”');
      return;
    }
    previewButton.disabled = true;
    previewState.textContent = '正在计算通知范围……';
    fetch('/warnings/new/preview', {method: 'POST', body: new FormData(form), credentials: 'same-origin',
                                    headers: {'X-Requested-With': 'fangxun', Accept: 'application/json'}})
      .then(answer)
      .then(function (result) {
        if (mine !== asked) { return; }
        previewButton.disabled = false;
        if (!result.ok || !result.data.valid) {
          previewState.textContent = '请先改正标出的错误';
          showError(result.data.field, result.data.detail);
          return;
        }
        showPreview(result.data);
        previewed = true;
        preview.hidden = false;
        confirmButton.disabled = false;
        previewState.textContent = '';
        preview.scrollIntoView({block: 'start'});
      })
      .catch(function (problem) {
        if (mine !== asked) { return; }
        previewButton.disabled = false;
        previewState.textContent = '';
        showError('', problem.detail || '无法连接服务，请检查网络后重试');
      });
  }

  function startMap() {
    var box = document.getElementById('entry-map');
    var map = L.map(box, {attributionControl: true, zoomSnap: 0.25}).setView(CITY_VIEW, 9);
    map.attributionControl.setPrefix(false);
    var tiles = box.getAttribute('data-tile-url');
    if (tiles) { L.tileLayer(tiles, {attribution: box.getAttribute('data-tile-attribution') || ''}).addTo(map); }
    var status = document.getElementById('draw-status');
    var buttons = {start: 'draw-start', undo: 'draw-undo', finish: 'draw-finish', clear: 'draw-clear'};
    Object.keys(buttons).forEach(function (key) { buttons[key] = document.getElementById(buttons[key]); });
    drawing = window.FangxunDraw.polygon(map, function (state) {
      var shape = state.geojson ? JSON.stringify(state.geojson) : '';
      if (polygonInput.value !== shape) {
        polygonInput.value = shape;
        stale();
      }
      buttons.undo.disabled = !state.drawing || !state.points;
      buttons.finish.disabled = !state.drawing || state.points < 3;
      buttons.clear.disabled = !state.drawing && !state.closed;
      buttons.start.textContent = state.closed ? '重新划定' : '开始划定';
      status.textContent = state.drawing
        ? '已点 ' + state.points + ' 个顶点' + (state.points >= 3 ? '：点击第一个点或“完成”闭合' : '：至少需要 3 个')
        : state.closed ? '已划定一个区域（' + (state.geojson.coordinates[0].length - 1) + ' 个顶点）。'
          : '点击“开始划定”，再在地图上依次点击区域的各个顶点，点击第一个点或“完成”闭合。';
    });
    buttons.start.addEventListener('click', function () { drawing.start(); });
    buttons.undo.addEventListener('click', function () { drawing.undo(); });
    buttons.finish.addEventListener('click', function () { drawing.finish(); });
    buttons.clear.addEventListener('click', function () { drawing.clear(); });
    var drawn = null;
    if (polygonInput.value) {
      try { drawn = JSON.parse(polygonInput.value); } catch (ignored) { drawn = null; }
    }
    fetch('/api/units.geojson?level=district', {credentials: 'same-origin'})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (districts) {
        if (!districts || !districts.features.length) { return; }
        var outlines = L.geoJSON(districts, {interactive: false, style: {color: '#0b4f8a', weight: 1.5, fillOpacity: 0.03},
          onEachFeature: function (feature, layer) {
            layer.bindTooltip(feature.properties.name, {permanent: true, direction: 'center', className: 'district-name'});
          }}).addTo(map);
        outlines.bringToBack();
        // Without animation, and not once drawing has begun: the map must not slide under the officer's clicks.
        if (!drawn && !drawing.state().drawing) { map.fitBounds(outlines.getBounds(), {animate: false}); }
      })
      .catch(function () { status.textContent = '区界载入失败：仍可在地图上划定区域。'; })
      .then(function () {
        if (drawn) { drawing.load(drawn); }
        document.documentElement.setAttribute('data-entry-ready', 'true');
      });
  }

  form.addEventListener('input', function (event) { if (event.target.name) { stale(); } });
  form.addEventListener('change', function (event) { if (event.target.name) { stale(); } });
  form.addEventListener('unitpicker:change', stale);
  previewButton.addEventListener('click', askPreview);
  form.addEventListener('submit', function (event) {
    if (!previewed) {
      event.preventDefault();
      askPreview();
      return;
    }
    confirmButton.disabled = true;
    previewButton.disabled = true;
    previewState.textContent = '正在发布……';
  });
  startMap();
}());
