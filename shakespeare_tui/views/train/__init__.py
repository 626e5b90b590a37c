"""The Train view: the settings form, the live chart, progress and samples; runs followed live
while another process trains them; the run queue worked."""
