"""The Train view: the settings form, the live chart, progress and samples; runs followed live."""
