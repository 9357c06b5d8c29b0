//! Implementations of library members, bound to the type model by key.
//!
//! Each module registers functions under a member's exact key
//! (`string.Substring(int,int)`), or under `Owner.Name/N` for every overload with `N`
//! parameters, or `Owner.Name/*` for all of them; such functions look at their arguments'
//! run-time values. Setters of properties and indexers register as `set:Owner.Name/N` and
//! receive the new value last.

use std::collections::HashMap;
use std::sync::OnceLock;

use turnpike_ir::library::{Member, MemberKind};
use turnpike_ir::{Library, MemberId, Ty};

use crate::eval::Interp;
use crate::value::{Exception, Value};

pub mod collections;
pub mod context;
pub mod crypto;
pub mod dates;
pub mod json;
pub mod linq;
pub mod misc;
pub mod numbers;
pub mod regex;
pub mod strings;

/// A native implementation.
pub type Native = fn(&mut Interp, &mut Call<'_>) -> Result<Value, Exception>;

/// One call of a native.
#[derive(Debug)]
pub struct Call<'a> {
    /// The member.
    pub member: &'static Member,
    /// The instance (`Null` for static members; extensions get it as `args[0]`).
    pub recv: Value,
    /// Arguments; `out`/`ref` slots are written back after the call.
    pub args: &'a mut [Value],
    /// Type arguments: the declaring type's, then the method's.
    pub targs: &'a [Ty],
}

impl Call<'_> {
    /// An argument.
    pub fn arg(&self, i: usize) -> &Value {
        self.args.get(i).unwrap_or(&Value::Null)
    }

    /// A string argument; `None` for null.
    pub fn str_arg(&self, i: usize) -> Option<std::sync::Arc<str>> {
        match self.arg(i) {
            Value::Str(s) => Some(s.clone()),
            _ => None,
        }
    }

    /// A string argument that must not be null (`ArgumentNullException` otherwise).
    pub fn req_str(&self, i: usize) -> Result<std::sync::Arc<str>, Exception> {
        self.str_arg(i).ok_or_else(|| {
            let name = self
                .member
                .params
                .get(i)
                .map_or("value", |p| p.name.as_str());
            Exception::arg_null(name)
        })
    }

    /// The receiver as a string (`this` of string members).
    pub fn this_str(&self) -> std::sync::Arc<str> {
        match &self.recv {
            Value::Str(s) => s.clone(),
            _ => match self.args.first() {
                Some(Value::Str(s)) if self.member.kind == MemberKind::Extension => s.clone(),
                _ => std::sync::Arc::from(""),
            },
        }
    }

    /// Number of arguments.
    pub fn len(&self) -> usize {
        self.args.len()
    }

    /// Whether there are no arguments.
    pub fn is_empty(&self) -> bool {
        self.args.is_empty()
    }

    /// The type of parameter `i` as declared.
    pub fn param_ty(&self, i: usize) -> Option<&Ty> {
        self.member.params.get(i).map(|p| &p.ty)
    }
}

/// Registration table.
pub(crate) type Registry = HashMap<&'static str, Native>;

/// Natives bound to members.
#[derive(Debug)]
pub struct Natives {
    get: Vec<Option<Native>>,
    set: Vec<Option<Native>>,
}

impl Natives {
    /// The getter / method of a member.
    pub fn get(&self, m: MemberId) -> Option<Native> {
        self.get.get(m.0 as usize).copied().flatten()
    }
}

fn registry() -> Registry {
    let mut r: Registry = HashMap::new();
    strings::register(&mut r);
    numbers::register(&mut r);
    collections::register(&mut r);
    dates::register(&mut r);
    regex::register(&mut r);
    misc::register(&mut r);
    context::register(&mut r);
    crypto::register(&mut r);
    json::register(&mut r);
    r
}

/// The natives for a library, bound once.
pub fn table(lib: &'static Library) -> &'static Natives {
    static TABLE: OnceLock<Natives> = OnceLock::new();
    TABLE.get_or_init(|| {
        let r = registry();
        let mut get = Vec::new();
        let mut set = Vec::new();
        for (_, m) in lib.members() {
            let owner = &lib.ty(m.owner).name;
            let n = m.params.len();
            let base = format!("{owner}.{}", m.name);
            let find = |prefix: &str| {
                r.get(format!("{prefix}{}", m.key).as_str())
                    .or_else(|| r.get(format!("{prefix}{base}").as_str()))
                    .or_else(|| r.get(format!("{prefix}{base}/{n}").as_str()))
                    .or_else(|| r.get(format!("{prefix}{base}/*").as_str()))
                    .copied()
            };
            // Properties of APIM's context objects read the object's named data.
            let context_prop = m.kind == MemberKind::Property
                && lib.ty(m.owner).namespace == "Microsoft.Azure.ApiManagement.Policies";
            get.push(find("").or(if context_prop {
                Some(context::named_prop as Native)
            } else {
                None
            }));
            set.push(if m.settable { find("set:") } else { None });
        }
        Natives { get, set }
    })
}

/// Names of members without an implementation (for the coverage report).
pub fn unimplemented(lib: &'static Library) -> Vec<&'static str> {
    let t = table(lib);
    lib.members()
        .filter(|(id, m)| {
            t.get(*id).is_none() && !matches!(m.kind, MemberKind::Operator(_))
                || t.get(*id).is_none()
        })
        .map(|(_, m)| m.key.as_str())
        .collect()
}

/// Calls the setter of a property or indexer; `args` end with the value.
pub fn set_member(
    it: &mut Interp,
    m: MemberId,
    targs: &[Ty],
    recv: Value,
    mut args: Vec<Value>,
) -> Result<(), Exception> {
    let t = table(it.lib);
    let member = it.lib.member(m);
    match t.set.get(m.0 as usize).copied().flatten() {
        Some(f) => {
            let mut call = Call {
                member,
                recv,
                args: &mut args,
                targs,
            };
            f(it, &mut call).map(|_| ())
        }
        None => Err(Exception::not_supported(format!(
            "Turnpike cannot assign `{}` yet",
            member.key
        ))),
    }
}
