#![no_std]
//! Latchkey digital-key protocol (work in progress).
