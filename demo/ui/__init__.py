"""The page: Gradio layout and wiring. `app` builds and launches the Blocks, `race_tab` is one modality's
tab, `controls` makes the setting controls from the settings model, `live` is the polled race view,
`lecture_panel` is lecture mode's widgets, `results` writes a race's downloads, `page_head` and `assets`
bring in the front-end files of demo/static/."""
