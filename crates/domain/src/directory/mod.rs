//! The directory an organisation manages: spaces (a tree per site), groups of people, the device
//! registry, device groups, free-form labels, site holiday calendars, and the scope a role with
//! scope (space manager, device owner) reaches. Pure rules only: validation, the space tree's
//! cycle and site checks, and scope coverage — the store keeps the rows, the server decides
//! with these.

pub mod device;
pub mod group;
pub mod holiday;
pub mod labels;
pub mod scope;
pub mod space;
pub mod text;

pub use device::{Device, DeviceKind, DeviceStatus};
pub use group::{DeviceGroup, Group};
pub use holiday::{Holiday, parse_holidays};
pub use labels::{LabelKind, parse_label, parse_labels};
pub use scope::DirectoryScope;
pub use space::{Space, SpaceTree};
pub use text::{optional_text, parse_kind};
