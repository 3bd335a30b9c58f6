// INT Studio: the live view of a race (status line, columns, chart, table, status JSON), one gr.HTML
// component per tab. Its js_on_load calls intStudio.raceView with the component's own API (element,
// props, server, trigger, watch: Gradio's documented gr.HTML script context).
//
// The view asks the server for news every props.poll_ms through the component's server function
// `poll` (a plain request outside Gradio's event queue: no status tracker, no output stores) with the
// token its Start returned, and applies the answer: only what changed.
(() => {
  const studio = (window.intStudio = window.intStudio || {});

  studio.raceView = ({element, props, server, trigger, watch}) => {
    const chart = studio.chart(element.querySelector('.race-chart'), props.chart_name);
    let ended = null;
    let last = -1;  // messages may arrive out of order: apply only those newer than the last one
    let polling = null;  // the token of the race being polled (null: not polling)
    let current = null;  // the token of the page's race, polled or finished (null: none)
    const chosen = (key) => (element.querySelector(`.view-choices input[name$="${key}"]:checked`) || {}).value;
    const question = (token) => ({token: token, after: last, overlay: chosen('overlay'), x_axis: chosen('x_axis')});

    async function poll(token) {
      while (polling === token) {
        const asked = performance.now();
        let text = null;
        try { text = await server.poll(question(token)); } catch (e) { text = null; }
        if (polling !== token) return;
        if (text === 'stop') { polling = null; return; }  // this race is no longer the page's (Reset, closed)
        if (text) show(text);
        studio.polls = (studio.polls || 0) + 1;
        await new Promise((done) => setTimeout(done, Math.max(50, props.poll_ms - (performance.now() - asked))));
      }
    }

    function media(figure, url) {
      const tag = figure.dataset.kind === 'audio' ? 'audio' : 'img';
      let node = figure.querySelector(tag);
      if (!url) { if (node) node.remove(); return; }
      if (!node) {
        node = document.createElement(tag);
        if (tag === 'audio') node.controls = true;
        figure.appendChild(node);
      }
      if (node.getAttribute('src') !== url) node.setAttribute('src', url);
    }

    function show(text) {
      const v = JSON.parse(text);
      if (v.seq <= last) return;
      last = v.seq;
      if ('token' in v) current = v.token;
      if ('token' in v && v.token !== polling) { polling = v.token; if (v.token) poll(v.token); }
      (v.columns || []).forEach((c, i) => {
        const col = element.querySelector(`[data-column="${i}"]`);
        if ('visible' in c) col.style.display = c.visible ? '' : 'none';
        if ('head' in c) col.querySelector('.column-head').innerHTML = c.head;
        Object.entries(c.panels || {}).forEach(([slot, url]) => media(col.querySelector(`[data-slot="${slot}"]`), url));
        Object.entries(c.captions || {}).forEach(([slot, text]) => {
          col.querySelector(`[data-slot="${slot}"] figcaption`).textContent = text;
        });
      });
      element.querySelector('.race-columns').dataset.count = String(
        element.querySelectorAll('.race-column:not([style*="none"])').length);
      if ('status' in v) element.querySelector('.race-status').innerHTML = v.status;
      if ('table' in v) element.querySelector('.race-table').innerHTML = v.table;
      if ('json' in v) element.querySelector('.race-json pre').textContent = v.json;
      if ('note' in v) element.querySelector('.race-note').textContent = v.note;
      if ('chart' in v) chart.draw(v.chart);
      if (v.finished) polling = null;
      if (v.finished && ended !== v.race) { ended = v.race; trigger('submit'); }
    }

    watch('value', () => { if (props.value) show(props.value); });
    // The view's choices (first picture, chart x axis) travel with every poll; a finished race, which is
    // no longer polled, is asked once so that it is redrawn with the new choice at once.
    element.querySelectorAll('.view-choices input').forEach((input) => input.addEventListener('change', async () => {
      if (!current || polling === current) return;
      let text = null;
      try { text = await server.poll(question(current)); } catch (e) { text = null; }
      if (text && text !== 'stop') show(text);
    }));
    // A click on a column's picture fires the view's `select` event: index = the pixel (x, y) in the
    // picture's own resolution (as gr.Image's select gives it), value = the column (0-based).
    element.addEventListener('click', (e) => {
      const img = e.target.closest && e.target.closest('.panel img');
      if (!img || !img.naturalWidth) return;
      const r = img.getBoundingClientRect();
      const scale = Math.min(r.width / img.naturalWidth, r.height / img.naturalHeight);  // object-fit: contain
      const x = Math.floor((e.clientX - r.left - (r.width - img.naturalWidth * scale) / 2) / scale);
      const y = Math.floor((e.clientY - r.top - (r.height - img.naturalHeight * scale) / 2) / scale);
      if (x < 0 || y < 0 || x >= img.naturalWidth || y >= img.naturalHeight) return;
      const column = Number(img.closest('.race-column').dataset.column);
      trigger('select', {index: [x, y], value: column});
    });
    if (props.value) show(props.value);
  };

})();
