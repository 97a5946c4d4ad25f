"""The Teams app package: the manifest template, the icons, and the code that fills them in."""
