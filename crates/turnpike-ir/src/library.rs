//! The type model as data: `grammar/library.api`, read once.
//!
//! The file declares every .NET type and member policy expressions may use (the format is
//! described in `spec/04-type-model.md`). Each member gets a stable key such as
//! `string.Substring(int,int)`; the checker resolves calls to members and the engines bind
//! their implementations by key.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::ty::{Prim, Ty};

/// Index of a type in the library.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeId(pub u32);

/// Index of a member in the library.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemberId(pub u32);

/// What sort of type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypeKind {
    /// A reference type.
    Class,
    /// A value type.
    Struct,
    /// An interface.
    Interface,
    /// A static class: only static members.
    StaticClass,
    /// An enum (a value type over `int`).
    Enum,
    /// A delegate: `Func<...>`, `Action<...>`, `Predicate<T>`.
    Delegate,
}

/// A declared type.
#[derive(Clone, Debug)]
pub struct TypeDef {
    /// The name as C# code writes it (`int`, `List`, `JObject`).
    pub name: String,
    /// The CLR name (`Int32`), or the name.
    pub clr_name: String,
    /// The namespace (`System.Text`).
    pub namespace: String,
    /// What sort of type.
    pub kind: TypeKind,
    /// Names of the type parameters.
    pub type_params: Vec<String>,
    /// Base class and interfaces, over the type's own parameters.
    pub bases: Vec<Ty>,
    /// Members, in file order.
    pub members: Vec<MemberId>,
    /// Values of an enum.
    pub enum_values: Vec<(String, i64)>,
}

impl TypeDef {
    /// Whether values of the type are never null.
    pub fn is_value_type(&self) -> bool {
        matches!(self.kind, TypeKind::Struct | TypeKind::Enum)
    }

    /// The value of an enum member.
    pub fn enum_value(&self, name: &str) -> Option<i64> {
        self.enum_values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
    }

    /// The name of an enum value (the first declared with it).
    pub fn enum_name(&self, value: i64) -> Option<&str> {
        self.enum_values
            .iter()
            .find(|(_, v)| *v == value)
            .map(|(n, _)| n.as_str())
    }
}

/// What sort of member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MemberKind {
    /// A static field or constant.
    Field,
    /// A property.
    Property,
    /// A constructor.
    Constructor,
    /// An indexer.
    Indexer,
    /// A method.
    Method,
    /// An extension method: `params[0]` is the receiver.
    Extension,
    /// A user-defined operator (`+`, `==`, `-` unary ...).
    Operator(String),
    /// A user-defined conversion.
    Conversion {
        /// `implicit` rather than `explicit`.
        implicit: bool,
    },
}

/// How a parameter is passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// By value.
    Value,
    /// `out`
    Out,
    /// `ref`
    Ref,
    /// `params T[]`
    Params,
}

/// A parameter.
#[derive(Clone, Debug)]
pub struct Param {
    /// Its name.
    pub name: String,
    /// Its type, over the type's and the method's type parameters.
    pub ty: Ty,
    /// How it is passed.
    pub mode: Mode,
    /// The default value's C# text when the parameter is optional (`default` for the type's).
    pub default: Option<String>,
}

/// A member.
#[derive(Clone, Debug)]
pub struct Member {
    /// Stable key: `string.Substring(int,int)`, `List.Count`, `DateTime.new(int,int,int)`.
    pub key: String,
    /// The declaring type.
    pub owner: TypeId,
    /// The name (`Substring`; `new`, `this`, or the operator token for those kinds).
    pub name: String,
    /// What sort of member.
    pub kind: MemberKind,
    /// Whether it is static (fields, operators and conversions always are).
    pub is_static: bool,
    /// Whether a property or indexer can be assigned.
    pub settable: bool,
    /// The method's own type parameters (numbered after the type's).
    pub type_params: Vec<String>,
    /// Parameters (for an extension, the receiver first).
    pub params: Vec<Param>,
    /// The type of the value: property type, return type (`Void` for none), constructed type.
    pub ty: Ty,
}

/// The whole type model.
#[derive(Debug)]
pub struct Library {
    types: Vec<TypeDef>,
    members: Vec<Member>,
    by_name: HashMap<String, Vec<TypeId>>,
    by_key: HashMap<String, MemberId>,
    extensions: HashMap<String, Vec<MemberId>>,
    prim_types: HashMap<Prim, TypeId>,
    string_type: Option<TypeId>,
    object_type: Option<TypeId>,
}

/// The library file compiled into the binary.
pub const LIBRARY_SOURCE: &str = include_str!("../../../grammar/library.api");

impl Library {
    /// The library compiled into the binary. A test keeps the file valid.
    #[allow(clippy::panic)]
    pub fn get() -> &'static Library {
        static LIB: OnceLock<Library> = OnceLock::new();
        LIB.get_or_init(|| match Library::parse(LIBRARY_SOURCE) {
            Ok(lib) => lib,
            Err(errors) => panic!("grammar/library.api is invalid:\n{}", errors.join("\n")),
        })
    }

    /// A type by id.
    pub fn ty(&self, id: TypeId) -> &TypeDef {
        &self.types[id.0 as usize]
    }

    /// A member by id.
    pub fn member(&self, id: MemberId) -> &Member {
        &self.members[id.0 as usize]
    }

    /// Every member.
    pub fn members(&self) -> impl Iterator<Item = (MemberId, &Member)> {
        self.members
            .iter()
            .enumerate()
            .map(|(i, m)| (MemberId(i as u32), m))
    }

    /// Every type.
    pub fn types(&self) -> impl Iterator<Item = (TypeId, &TypeDef)> {
        self.types
            .iter()
            .enumerate()
            .map(|(i, t)| (TypeId(i as u32), t))
    }

    /// A member by key.
    pub fn by_key(&self, key: &str) -> Option<MemberId> {
        self.by_key.get(key).copied()
    }

    /// Types with this simple name (or CLR name), any arity.
    pub fn types_named(&self, name: &str) -> &[TypeId] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }

    /// The type with this name and number of type parameters.
    pub fn find_type(&self, name: &str, arity: usize) -> Option<TypeId> {
        self.types_named(name)
            .iter()
            .copied()
            .find(|id| self.ty(*id).type_params.len() == arity)
    }

    /// The type with this namespace-qualified name (`System.Text.Encoding`).
    pub fn find_qualified(&self, namespace: &str, name: &str, arity: usize) -> Option<TypeId> {
        self.types_named(name).iter().copied().find(|id| {
            let t = self.ty(*id);
            t.namespace == namespace && t.type_params.len() == arity
        })
    }

    /// Whether some type lives in this namespace or below it.
    pub fn is_namespace(&self, ns: &str) -> bool {
        self.types.iter().any(|t| {
            t.namespace == ns
                || (t.namespace.starts_with(ns)
                    && t.namespace.as_bytes().get(ns.len()) == Some(&b'.'))
        })
    }

    /// Extension methods with this name.
    pub fn extensions(&self, name: &str) -> &[MemberId] {
        self.extensions.get(name).map_or(&[], Vec::as_slice)
    }

    /// The declaration behind a type, if it has one: library types, keyword types, `string`,
    /// `object`.
    pub fn def_of(&self, ty: &Ty) -> Option<(TypeId, Vec<Ty>)> {
        match ty {
            Ty::Named(id, args) => Some((*id, args.clone())),
            Ty::Prim(p) => self.prim_types.get(p).map(|id| (*id, Vec::new())),
            Ty::String => self.string_type.map(|id| (id, Vec::new())),
            Ty::Object => self.object_type.map(|id| (id, Vec::new())),
            Ty::Array(_) => self.find_type("Array", 0).map(|id| (id, Vec::new())),
            _ => None,
        }
    }

    /// The type a declaration stands for (`int` for the `int` declaration).
    pub fn ty_of_def(&self, id: TypeId, args: Vec<Ty>) -> Ty {
        if let Some(p) = self
            .prim_types
            .iter()
            .find(|(_, t)| **t == id)
            .map(|(p, _)| *p)
        {
            return Ty::Prim(p);
        }
        if Some(id) == self.string_type {
            return Ty::String;
        }
        if Some(id) == self.object_type {
            return Ty::Object;
        }
        Ty::Named(id, args)
    }

    /// The direct bases of a type, with its arguments substituted. Arrays implement
    /// `IList<T>`, `ICollection<T>`, `IReadOnlyList<T>`, `IEnumerable<T>`; every type ends in
    /// `object`.
    pub fn bases_of(&self, ty: &Ty) -> Vec<Ty> {
        let mut out = Vec::new();
        match ty {
            Ty::Array(elem) => {
                for name in [
                    "IList",
                    "ICollection",
                    "IReadOnlyList",
                    "IReadOnlyCollection",
                    "IEnumerable",
                ] {
                    if let Some(id) = self.find_type(name, 1) {
                        out.push(Ty::Named(id, vec![(**elem).clone()]));
                    }
                }
                if let Some(id) = self.find_type("Array", 0) {
                    out.push(Ty::Named(id, Vec::new()));
                }
            }
            Ty::Nullable(_) | Ty::Object | Ty::Unknown | Ty::Null | Ty::Void => {}
            _ => {
                if let Some((id, args)) = self.def_of(ty) {
                    out.extend(self.ty(id).bases.iter().map(|b| b.subst(&args)));
                }
            }
        }
        out
    }

    /// Every type `ty` is or derives from, itself first (breadth first, no repeats).
    pub fn ancestors(&self, ty: &Ty) -> Vec<Ty> {
        let mut out = vec![ty.clone()];
        let mut i = 0;
        while i < out.len() && out.len() < 64 {
            for b in self.bases_of(&out[i].clone()) {
                if !out.contains(&b) {
                    out.push(b);
                }
            }
            i += 1;
        }
        out
    }

    /// The element type when `ty` is enumerable (`IEnumerable<T>` among its ancestors).
    pub fn element_type(&self, ty: &Ty) -> Option<Ty> {
        let ienum = self.find_type("IEnumerable", 1)?;
        self.ancestors(ty).into_iter().find_map(|t| match t {
            Ty::Named(id, mut args) if id == ienum => args.pop(),
            _ => None,
        })
    }

    /// The form of `ty` as an instance of the generic type `target`, if it is one.
    pub fn as_instance_of(&self, ty: &Ty, target: TypeId) -> Option<Vec<Ty>> {
        self.ancestors(ty).into_iter().find_map(|t| match t {
            Ty::Named(id, args) if id == target => Some(args),
            _ => None,
        })
    }

    /// Parses a library file.
    pub fn parse(text: &str) -> Result<Library, Vec<String>> {
        parse::parse(text)
    }
}

mod parse;
