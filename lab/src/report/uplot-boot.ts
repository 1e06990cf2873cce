// The browser side of the interactive charts, as plain ES5 text (it runs in the reader's browser, not in
// Node, so it is kept as a string rather than compiled from TypeScript: no helper the bundler might inject
// can leak into the page). It reads the charts' data from <script type="application/json" id="chart-data">,
// draws each with uPlot into its <figure> (tooltip on hover, drag to zoom, double-click to reset, width
// following the page), and hides that figure's static SVG, which stays the no-script fallback.

export const UPLOT_BOOT = `(function () {
  var el = document.getElementById('chart-data');
  if (!el || typeof uPlot === 'undefined') return;
  var charts = JSON.parse(el.textContent);
  var fmt = function (v) {
    if (v == null || !isFinite(v)) return '–';
    var a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toFixed(2) + 'G';
    if (a >= 1e6) return (v / 1e6).toFixed(2) + 'M';
    if (a >= 1e4) return (v / 1e3).toFixed(1) + 'k';
    if (a >= 100 || v === Math.round(v)) return String(Math.round(v * 10) / 10);
    return String(Number(v.toPrecision(3)));
  };
  function tooltip(c) {
    var tip;
    return {
      hooks: {
        init: function (u) {
          tip = document.createElement('div');
          tip.className = 'uptip';
          tip.style.display = 'none';
          u.over.appendChild(tip);
          u.over.addEventListener('mouseleave', function () { tip.style.display = 'none'; });
        },
        setCursor: function (u) {
          var i = u.cursor.idx;
          if (i == null) { tip.style.display = 'none'; return; }
          var rows = ['<b>' + fmt(u.data[0][i]) + ' s after the open</b>'];
          for (var s = 1; s < u.series.length; s++) {
            var v = u.data[s][i];
            rows.push('<span style="color:' + c.series[s - 1].color + '">■</span> ' +
              c.series[s - 1].label + ': ' + (v == null ? 'no data' : fmt(v)));
          }
          tip.innerHTML = rows.join('<br>');
          tip.style.display = 'block';
          var left = u.cursor.left + 12, w = tip.offsetWidth;
          if (left + w > u.over.clientWidth) left = u.cursor.left - w - 12;
          tip.style.left = Math.max(0, left) + 'px';
          tip.style.top = Math.max(0, u.cursor.top - 10) + 'px';
        }
      }
    };
  }
  function marks(c) {
    return {
      hooks: {
        draw: function (u) {
          var ctx = u.ctx, t = u.bbox.top, h = u.bbox.height, dpr = window.devicePixelRatio || 1;
          ctx.save();
          ctx.font = (10 * dpr) + 'px system-ui, sans-serif';
          c.gaps.forEach(function (g) {
            var a = u.valToPos(g.from, 'x', true), b = u.valToPos(g.to, 'x', true);
            ctx.fillStyle = 'rgba(150,150,150,0.15)';
            ctx.fillRect(a, t, Math.max(1, b - a), h);
            ctx.fillStyle = '#777';
            ctx.fillText('no data', a + 2, t + h - 4 * dpr);
          });
          ctx.setLineDash([3 * dpr, 3 * dpr]);
          ctx.strokeStyle = '#999';
          ctx.fillStyle = '#777';
          c.markers.forEach(function (m) {
            var x = u.valToPos(m.x, 'x', true);
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
            ctx.beginPath(); ctx.moveTo(x, t); ctx.lineTo(x, t + h); ctx.stroke();
            ctx.fillText(m.label, x + 3 * dpr, t + 10 * dpr);
          });
          ctx.strokeStyle = '#d62728';
          ctx.setLineDash([6 * dpr, 3 * dpr]);
          c.refLines.forEach(function (r) {
            var y = u.valToPos(r.y, 'y', true);
            ctx.beginPath(); ctx.moveTo(u.bbox.left, y); ctx.lineTo(u.bbox.left + u.bbox.width, y); ctx.stroke();
            ctx.fillText(r.label, u.bbox.left + 4 * dpr, y - 4 * dpr);
          });
          ctx.restore();
        }
      }
    };
  }
  var plots = [];
  charts.forEach(function (c) {
    var fig = document.getElementById(c.id);
    if (!fig) return;
    var box = document.createElement('div');
    box.className = 'upbox';
    fig.appendChild(box);
    var yMax = 0;
    c.values.forEach(function (col) { col.forEach(function (v) { if (v != null && v > yMax) yMax = v; }); });
    c.refLines.forEach(function (r) { if (r.y > yMax) yMax = r.y; });
    var opts = {
      title: c.title,
      width: Math.max(320, fig.clientWidth),
      height: 260,
      plugins: [tooltip(c), marks(c)],
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: false }, y: { range: function (u, lo, hi) { return [Math.min(0, lo), Math.max(hi, yMax, 1) * 1.05]; } } },
      axes: [{ label: c.xLabel }, { label: c.yLabel, size: 60, values: function (u, vs) { return vs.map(fmt); } }],
      series: [{ label: 'seconds' }].concat(c.series.map(function (s) {
        return {
          label: s.label,
          stroke: s.color,
          width: 1.6,
          dash: s.dash || undefined,
          points: { show: !!s.marker, size: 5, fill: s.color, space: 40 },
          value: function (u, v) { return v == null ? '–' : fmt(v); }
        };
      }))
    };
    var u = new uPlot(opts, [c.x].concat(c.values), box);
    fig.classList.add('live');
    plots.push({ u: u, fig: fig });
  });
  window.addEventListener('resize', function () {
    plots.forEach(function (p) { p.u.setSize({ width: Math.max(320, p.fig.clientWidth), height: 260 }); });
  });
})();`;
