/// The version of this build: `mmcore --version`, and `info.version` of the schema (the
/// end-to-end tests check that the two agree).
let mmcoreVersion = "0.1.0"
