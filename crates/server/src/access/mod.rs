//! Access rights: grants and delegation, the explanations built on the decision core
//! (`latchkey_domain::access`), and the per-organisation model cache they all read.

pub mod explain;
pub mod grants;
pub mod model_cache;
pub mod subjects;
