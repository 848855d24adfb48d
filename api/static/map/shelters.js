/* Shelters (避险安置点) as markers grouped on a pixel grid; regrouped after every zoom. */
(function () {
  'use strict';
  var FM = window.FangxunMap = window.FangxunMap || {};
  var CELL = 64;  // px: shelters closer than this at the current zoom share one marker

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) { return String(values[key]); });
  }

  function shelterMarker(row) {
    var t = FM.config.text, icon = L.divIcon({className: 'fx-shelter', iconSize: [14, 14], html: FM.el('span')});
    var marker = L.marker([row[0], row[1]], {icon: icon, keyboard: false});
    marker.bindTooltip(function () { return FM.el('span', null, row[2]); });
    marker.bindPopup(function () {
      var box = FM.el('div', 'fx-popup');
      box.appendChild(FM.el('h3', null, row[2]));
      box.appendChild(FM.el('p', null, t.capacity + ' ' + row[3] + ' ' + t.people));
      if (row[4]) { box.appendChild(FM.el('p', 'fx-meta', t.unit + '：' + row[4])); }
      return box;
    });
    return marker;
  }

  function clusterMarker(map, rows) {
    var capacity = 0, bounds = L.latLngBounds([]);
    rows.forEach(function (row) { capacity += row[3]; bounds.extend([row[0], row[1]]); });
    var size = rows.length < 10 ? 30 : rows.length < 100 ? 36 : 44;
    var icon = L.divIcon({className: 'fx-cluster', iconSize: [size, size], html: FM.el('span', null, rows.length)});
    var centre = bounds.getCenter();
    var marker = L.marker(centre, {icon: icon, title: format(FM.config.text.cluster,
      {count: rows.length, capacity: capacity})});
    marker.on('click', function () {
      var target = map.getBoundsZoom(bounds);
      // Shelters at one spot stay together at any zoom: zoom in a step instead of fitting nothing.
      if (target <= map.getZoom()) {
        map.setView(centre, Math.min(map.getZoom() + 2, map.getMaxZoom()));
      } else {
        map.fitBounds(bounds, {padding: [40, 40]});
      }
    });
    return marker;
  }

  /* A layer of [lat, lon, name, capacity, unit name] rows, regrouped whenever the map's zoom changes. */
  var ShelterClusters = L.LayerGroup.extend({
    initialize: function (rows) {
      L.LayerGroup.prototype.initialize.call(this);
      this._rows = rows;
    },
    onAdd: function (map) {
      map.on('zoomend', this._regroup, this);
      this._regroup();
    },
    onRemove: function (map) {
      map.off('zoomend', this._regroup, this);
      L.LayerGroup.prototype.onRemove.call(this, map);
      this.clearLayers();
    },
    _regroup: function () {
      var map = this._map, zoom = map.getZoom(), cells = {}, self = this;
      this.clearLayers();
      this._rows.forEach(function (row) {
        var point = map.project([row[0], row[1]], zoom);
        var key = Math.floor(point.x / CELL) + ':' + Math.floor(point.y / CELL);
        (cells[key] = cells[key] || []).push(row);
      });
      Object.keys(cells).forEach(function (key) {
        var members = cells[key];
        self.addLayer(members.length === 1 ? shelterMarker(members[0]) : clusterMarker(map, members));
      });
    }
  });

  FM.shelterClusters = function (rows) {
    return new ShelterClusters(rows);
  };
}());
