//! The service as a whole, beyond one file: its modules and how they import each other,
//! values defined in one module and used in another, the entrypoint production starts, and
//! the files its serving path reaches.

pub(crate) mod arguments;
pub mod entrypoint;
pub(crate) mod hf_config;
pub mod modules;
pub(crate) mod placement;
pub mod reach;
pub(crate) mod server_command;
pub mod torchserve_archive;
pub mod values;
