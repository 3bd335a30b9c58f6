"""The app's server side without any user interface: races and their threads, the sessions and the
queue, the settings model (the library's settings by name, links), and media files. No gradio here."""
