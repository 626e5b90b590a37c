"""The app's views, one package each (Train, Generate, Inspect, Runs), with the widgets and
keys only that view uses; the help and the dialogs more than one view opens sit beside them."""
