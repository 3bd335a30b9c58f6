"""Lecture mode without the page: each modality's step and kernel pictures (`base.LectureDrawing` and one
module per modality), Algorithm 1 as a panel, the words, the race GIF and the poster figure, and the
per-page memory of a race (`state.LectureState`). No gradio here; demo.ui places and wires it."""
