/* The unit picker: type part of a name and pick a match shown with its district ("金水区 · 新华路街道") from
   /api/units/search, or browse the tree from /api/units/tree; each picked unit posts its code in a hidden input.
   A change fires "unitpicker:change" on the picker. Every value is set as text. */
(function () {
  'use strict';
  var DELAY_MS = 200, LIMIT = 20, SEPARATOR = ' · ';

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function getJSON(url) {
    return fetch(url, {credentials: 'same-origin', headers: {Accept: 'application/json'}}).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    });
  }

  function Picker(root) {
    this.root = root;
    this.name = root.getAttribute('data-name');
    this.multiple = root.getAttribute('data-multiple') === 'true';
    this.level = root.getAttribute('data-level') || '';
    this.input = root.querySelector('.unit-picker-search');
    this.list = root.querySelector('.unit-picker-matches');
    this.chosen = root.querySelector('.unit-picker-chosen');
    this.browse = root.querySelector('.unit-picker-browse');
    this.tree = root.querySelector('.unit-picker-tree');
    this.shown = [];
    this.active = -1;
    this.asked = 0;
    this.timer = null;
    this.bind();
  }

  Picker.prototype.codes = function () {
    return Array.prototype.map.call(this.chosen.querySelectorAll('.unit-picker-chip'), function (chip) {
      return chip.getAttribute('data-code');
    });
  };

  Picker.prototype.changed = function () {
    this.root.dispatchEvent(new CustomEvent('unitpicker:change', {bubbles: true, detail: {codes: this.codes()}}));
  };

  Picker.prototype.add = function (code, label) {
    if (this.codes().indexOf(code) !== -1) { return; }
    if (!this.multiple) { this.chosen.textContent = ''; }
    var chip = el('li', 'unit-picker-chip');
    chip.setAttribute('data-code', code);
    chip.appendChild(el('span', 'unit-picker-place', label));
    var hidden = el('input');
    hidden.type = 'hidden';
    hidden.name = this.name;
    hidden.value = code;
    chip.appendChild(hidden);
    var remove = el('button', 'unit-picker-remove', '×');
    remove.type = 'button';
    remove.setAttribute('aria-label', '移除 ' + label);
    chip.appendChild(remove);
    this.chosen.appendChild(chip);
    this.changed();
  };

  Picker.prototype.close = function () {
    this.list.hidden = true;
    this.list.textContent = '';
    this.shown = [];
    this.active = -1;
    this.input.setAttribute('aria-expanded', 'false');
  };

  Picker.prototype.pick = function (index) {
    var unit = this.shown[index];
    if (!unit) { return; }
    this.add(unit.code, unit.label);
    this.input.value = '';
    this.close();
    this.input.focus();
  };

  Picker.prototype.highlight = function (index) {
    this.active = index;
    Array.prototype.forEach.call(this.list.children, function (item, i) {
      item.setAttribute('aria-selected', i === index ? 'true' : 'false');
      if (i === index) { item.scrollIntoView({block: 'nearest'}); }
    });
  };

  Picker.prototype.showMatches = function (units) {
    var self = this;
    this.list.textContent = '';
    this.shown = units;
    this.active = -1;
    if (!units.length) { this.list.appendChild(el('li', 'unit-picker-empty', '没有名称含此文字的区划')); }
    units.forEach(function (unit, index) {
      var item = el('li', 'unit-picker-match');
      item.setAttribute('role', 'option');
      item.setAttribute('data-code', unit.code);
      item.appendChild(el('span', 'unit-picker-place', unit.label));
      item.appendChild(el('span', 'unit-picker-level', unit.level_label));
      item.addEventListener('mousedown', function (event) { event.preventDefault(); self.pick(index); });
      self.list.appendChild(item);
    });
    this.list.hidden = false;
    this.input.setAttribute('aria-expanded', 'true');
  };

  Picker.prototype.search = function () {
    var self = this, query = this.input.value.trim(), asked = ++this.asked;
    if (!query) { this.close(); return; }
    var url = '/api/units/search?limit=' + LIMIT + '&q=' + encodeURIComponent(query) +
      (this.level ? '&level=' + encodeURIComponent(this.level) : '');
    getJSON(url).then(function (data) {
      if (asked === self.asked) { self.showMatches(data.units); }
    }, function () {
      if (asked !== self.asked) { return; }
      self.list.textContent = '';
      self.list.appendChild(el('li', 'unit-picker-empty', '查找失败，请稍后重试'));
      self.list.hidden = false;
    });
  };

  Picker.prototype.node = function (unit, path, closed) {
    var self = this, item = el('li', 'unit-picker-node'), place = path.concat([unit.name]);
    item.setAttribute('data-code', unit.code);
    var row = el('div', 'unit-picker-row');
    var open = null;
    if (unit.level !== 'village' && !closed) {
      open = el('button', 'unit-picker-open', '▸');
      open.type = 'button';
      open.setAttribute('aria-expanded', 'false');
      open.setAttribute('aria-label', '展开 ' + unit.name);
      row.appendChild(open);
    }
    row.appendChild(el('span', 'unit-picker-name', unit.name));
    var choose = el('button', 'unit-picker-choose', '选择');
    choose.type = 'button';
    choose.setAttribute('aria-label', '选择 ' + place.join(SEPARATOR));
    choose.addEventListener('click', function () { self.add(unit.code, place.join(SEPARATOR)); });
    row.appendChild(choose);
    item.appendChild(row);
    if (open) {
      var children = null;
      open.addEventListener('click', function () {
        if (children) {
          children.hidden = !children.hidden;
          open.textContent = children.hidden ? '▸' : '▾';
          open.setAttribute('aria-expanded', children.hidden ? 'false' : 'true');
          return;
        }
        children = el('ul', 'unit-picker-branch');
        item.appendChild(children);
        children.appendChild(el('li', 'unit-picker-empty', '正在载入……'));
        open.textContent = '▾';
        open.setAttribute('aria-expanded', 'true');
        self.fill(children, '/api/units/tree?root=' + encodeURIComponent(unit.code), place);
      });
    }
    return item;
  };

  // The children of a tree node (the city: its districts), each with its place path for the label.
  Picker.prototype.fill = function (list, url, path) {
    var self = this;
    getJSON(url).then(function (root) {
      list.textContent = '';
      if (!path) {
        list.appendChild(self.node(root, [], true));  // the whole city, choosable too; its districts follow
        path = [];
      }
      root.children.forEach(function (child) { list.appendChild(self.node(child, path)); });
      if (!root.children.length && path.length) { list.appendChild(el('li', 'unit-picker-empty', '没有下级区划')); }
    }, function () {
      list.textContent = '';
      list.appendChild(el('li', 'unit-picker-empty', '载入失败，请稍后重试'));
    });
  };

  Picker.prototype.toggleTree = function () {
    var opening = this.tree.hidden;
    this.tree.hidden = !opening;
    this.browse.setAttribute('aria-expanded', opening ? 'true' : 'false');
    if (opening && !this.tree.firstChild) {
      var list = el('ul', 'unit-picker-branch');
      list.appendChild(el('li', 'unit-picker-empty', '正在载入……'));
      this.tree.appendChild(list);
      this.fill(list, '/api/units/tree', null);
    }
  };

  Picker.prototype.bind = function () {
    var self = this;
    this.input.addEventListener('input', function () {
      window.clearTimeout(self.timer);
      self.timer = window.setTimeout(function () { self.search(); }, DELAY_MS);
    });
    this.input.addEventListener('keydown', function (event) {
      var count = self.shown.length;
      if (event.key === 'ArrowDown' && count) {
        self.highlight((self.active + 1) % count); event.preventDefault();
      } else if (event.key === 'ArrowUp' && count) {
        self.highlight((self.active - 1 + count) % count); event.preventDefault();
      } else if (event.key === 'Enter') {
        event.preventDefault();  // never submits the form
        if (count) { self.pick(self.active >= 0 ? self.active : 0); }
      } else if (event.key === 'Escape') {
        self.close();
      }
    });
    this.input.addEventListener('blur', function () { window.setTimeout(function () { self.close(); }, 150); });
    this.browse.addEventListener('click', function () { self.toggleTree(); });
    this.chosen.addEventListener('click', function (event) {
      var remove = event.target.closest('.unit-picker-remove');
      if (!remove) { return; }
      remove.closest('.unit-picker-chip').remove();
      self.changed();
      self.input.focus();
    });
  };

  var pickers = [];
  Array.prototype.forEach.call(document.querySelectorAll('.unit-picker'), function (root) {
    pickers.push(new Picker(root));
  });
  window.FangxunUnits = {pickers: pickers};
}());
