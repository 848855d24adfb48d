/* One polygon drawn on a Leaflet map by clicking its vertices (no plugin): start, click the corners, close it on
   the first point or with finish; undo the last point, clear it all. The result is GeoJSON (longitude, latitude). */
(function () {
  'use strict';
  var COLOUR = '#6a1b9a';
  var SHAPE = {color: COLOUR, weight: 3, fillColor: COLOUR, fillOpacity: 0.15};
  var DIGITS = 1e6;  // about 0.1 m

  function round(value) { return Math.round(value * DIGITS) / DIGITS; }

  function Drawing(map, onChange) {
    var self = this;
    this.map = map;
    this.onChange = onChange;
    this.points = [];
    this.drawing = false;
    this.shape = null;
    this.line = L.polyline([], {color: COLOUR, weight: 2, dashArray: '6 4', interactive: false}).addTo(map);
    this.corners = L.layerGroup().addTo(map);
    map.on('click', function (event) { if (self.drawing) { self.add(event.latlng); } });
  }

  Drawing.prototype.redraw = function () {
    var self = this;
    this.line.setLatLngs(this.points);
    this.corners.clearLayers();
    this.points.forEach(function (point, index) {
      var first = index === 0 && self.points.length >= 3;
      var corner = L.circleMarker(point, {radius: first ? 8 : 5, color: COLOUR, weight: 2, fillColor: '#fff',
        fillOpacity: 1, interactive: first, bubblingMouseEvents: !first, className: first ? 'draw-first' : ''});
      if (first) { corner.on('click', function () { self.finish(); }); }
      self.corners.addLayer(corner);
    });
    this.onChange(this.state());
  };

  Drawing.prototype.state = function () {
    return {drawing: this.drawing, points: this.points.length, closed: this.shape !== null,
            geojson: this.geojson()};
  };

  Drawing.prototype.start = function () {
    this.removeShape();
    this.points = [];
    this.drawing = true;
    this.map.doubleClickZoom.disable();
    this.map.getContainer().classList.add('drawing');
    this.redraw();
  };

  Drawing.prototype.add = function (latlng) {
    this.points.push(latlng);
    this.redraw();
  };

  Drawing.prototype.undo = function () {
    this.points.pop();
    this.redraw();
  };

  Drawing.prototype.stop = function () {
    this.drawing = false;
    this.map.doubleClickZoom.enable();
    this.map.getContainer().classList.remove('drawing');
  };

  Drawing.prototype.finish = function () {
    if (this.points.length < 3) { return false; }
    this.stop();
    this.shape = L.polygon(this.points, SHAPE).addTo(this.map);
    this.points = [];
    this.redraw();
    return true;
  };

  Drawing.prototype.removeShape = function () {
    if (this.shape) { this.map.removeLayer(this.shape); }
    this.shape = null;
  };

  Drawing.prototype.clear = function () {
    this.stop();
    this.removeShape();
    this.points = [];
    this.redraw();
  };

  // A polygon drawn before (the form shown again): its outer ring, fitted into view.
  Drawing.prototype.load = function (geojson) {
    var ring = geojson && geojson.type === 'Polygon' && geojson.coordinates && geojson.coordinates[0];
    if (!ring || ring.length < 4) { return; }
    this.clear();
    this.shape = L.polygon(ring.slice(0, -1).map(function (p) { return [p[1], p[0]]; }), SHAPE).addTo(this.map);
    this.map.fitBounds(this.shape.getBounds(), {padding: [20, 20]});
    this.onChange(this.state());
  };

  Drawing.prototype.geojson = function () {
    if (!this.shape) { return null; }
    var ring = this.shape.getLatLngs()[0].map(function (p) { return [round(p.lng), round(p.lat)]; });
    ring.push(ring[0].slice());
    return {type: 'Polygon', coordinates: [ring]};
  };

  window.FangxunDraw = {polygon: function (map, onChange) { return new Drawing(map, onChange); }};
}());
