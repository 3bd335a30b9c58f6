// INT Studio: keyboard shortcuts for a lecture, acting on the tab that is shown. Every tab's race
// buttons carry the tab's prefix ("" for the image tab, "audio-", "shape-").
//   Space: Start, or Pause/Resume while a race runs   →: Step   R: Reset
//   P: presentation view (the race only, larger)      Escape: leave it
(() => {
  if (window.intStudioKeys) return;
  const state = (window.intStudioKeys = {racing: {}});
  const press = (id) => { const b = document.getElementById(id); if (b) b.click(); return !!b; };
  const shown = () => {
    const starts = Array.from(document.querySelectorAll('button[id$="start"]'));
    const b = starts.find((s) => s.offsetParent !== null && /^([a-z]+-)?start$/.test(s.id));
    return b ? b.id.slice(0, -'start'.length) : undefined;
  };
  document.addEventListener('click', (e) => {
    const b = e.target.closest && e.target.closest('button');
    if (!b || !b.id) return;
    const m = b.id.match(/^([a-z]+-)?(start|reset|stop)$/);
    if (m) state.racing[m[1] || ''] = m[2] === 'start';
  }, true);
  document.addEventListener('keydown', (e) => {
    const t = e.target;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))) return;
    const p = shown();
    if (p === undefined) return;  // no race tab is shown
    if (e.code === 'Space') {
      e.preventDefault();
      const status = document.getElementById(p + 'status-text');
      const ended = status && /^(Done|Stopped|Failed)/.test(status.innerText.trim());  // a finished race: start anew
      press(state.racing[p] && !ended ? p + 'pause' : p + 'start');
    } else if (e.key === 'ArrowRight') { e.preventDefault(); press(p + 'step'); }
    else if (e.key === 'r' || e.key === 'R') { press(p + 'reset'); }
    else if (e.key === 'p' || e.key === 'P') { document.body.classList.toggle('int-presenting'); }
    else if (e.key === 'Escape') { document.body.classList.remove('int-presenting'); }
  });
})();
