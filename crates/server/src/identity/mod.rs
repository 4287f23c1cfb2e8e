//! Identity services: accounts, password login with lockout, sessions. One code path serves every
//! entry point (research §2.2 I2): the console form and the API both call [`App::login`].

pub mod accounts;
pub mod api_tokens;
pub mod bootstrap;
pub mod hashing;
pub mod invitations;
pub mod lock_mail;
pub mod login;
pub mod mfa;
pub mod my_sessions;
pub mod people;
pub mod principal;
pub mod reset;
pub mod step_up;
pub mod throttle;
pub mod tokens;

pub use hashing::{HashParams, PasswordHasher};
pub use login::{LoginError, LoginRequest, LoginSuccess};
pub use principal::{Credential, Need, Principal};
