"""Where the library is, for a package used from the source tree (meson install writes its own)."""
LIBDIR = ""
SOVERSION = "0"
