"""Pictures and words every tab shares, with numpy and Pillow only: colours, the race chart (plotly
JSON), the results table, the status line, waveforms, server-side 3D rendering and figure helpers."""
