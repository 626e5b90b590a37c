"""The app's views: Train, Generate, and the help screen."""
