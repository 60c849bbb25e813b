//! Reading SoR (schema-on-read) files into data frames.
