// INT Studio: THE ONE PLACE THAT RELIES ON GRADIO'S INTERNALS (tested with gradio==6.31.0, pinned in
// requirements.txt). Gradio's status tracker keeps a requestAnimationFrame loop (its elapsed-time
// counter) running at 60 frames a second while any tracker on the page is "pending", and in Gradio 6
// one is, from page load on, even in an app of one button. Every frame forces a style and layout pass;
// on a 2-core machine, during a race, that loop was a third of the browser's CPU (bench/app_overhead.py).
// Gradio offers no setting for it. The tracker's module keeps its own reference to
// window.requestAnimationFrame from the moment it loads, so this script must run before Gradio's own:
// the app's middleware (demo/ui/page_head.py) puts it first in the page's <head>. It wraps
// requestAnimationFrame so that callbacks scheduled by the status tracker (the call stack says whose
// they are: the name of Gradio's module) wait 250 ms before their frame. The counter keeps running, at
// 4 Hz; every other caller (plotly.js, Svelte's transitions) is untouched. If Gradio renames the
// module, nothing breaks: the loop merely runs at 60 Hz again.
(() => {
  const frame = window.requestAnimationFrame.bind(window);
  window.intStudioQuietTracker = true;
  window.requestAnimationFrame = (callback) => {
    if ((new Error().stack || '').includes('statustracker')) return setTimeout(() => frame(callback), 250);
    return frame(callback);
  };
})();
