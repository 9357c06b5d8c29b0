//! Types as the checker sees them.

use std::fmt;

use crate::library::{Library, TypeId};

/// The predefined value types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Prim {
    /// `bool`
    Bool,
    /// `char` (one UTF-16 code unit)
    Char,
    /// `sbyte`
    SByte,
    /// `byte`
    Byte,
    /// `short`
    Short,
    /// `ushort`
    UShort,
    /// `int`
    Int,
    /// `uint`
    UInt,
    /// `long`
    Long,
    /// `ulong`
    ULong,
    /// `float`
    Float,
    /// `double`
    Double,
    /// `decimal`
    Decimal,
}

impl Prim {
    /// Every predefined value type.
    pub const ALL: [Prim; 13] = [
        Prim::Bool,
        Prim::Char,
        Prim::SByte,
        Prim::Byte,
        Prim::Short,
        Prim::UShort,
        Prim::Int,
        Prim::UInt,
        Prim::Long,
        Prim::ULong,
        Prim::Float,
        Prim::Double,
        Prim::Decimal,
    ];

    /// The C# keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            Prim::Bool => "bool",
            Prim::Char => "char",
            Prim::SByte => "sbyte",
            Prim::Byte => "byte",
            Prim::Short => "short",
            Prim::UShort => "ushort",
            Prim::Int => "int",
            Prim::UInt => "uint",
            Prim::Long => "long",
            Prim::ULong => "ulong",
            Prim::Float => "float",
            Prim::Double => "double",
            Prim::Decimal => "decimal",
        }
    }

    /// The CLR name (`Int32`), as exception messages and `GetType().Name` print it.
    pub fn clr_name(self) -> &'static str {
        match self {
            Prim::Bool => "Boolean",
            Prim::Char => "Char",
            Prim::SByte => "SByte",
            Prim::Byte => "Byte",
            Prim::Short => "Int16",
            Prim::UShort => "UInt16",
            Prim::Int => "Int32",
            Prim::UInt => "UInt32",
            Prim::Long => "Int64",
            Prim::ULong => "UInt64",
            Prim::Float => "Single",
            Prim::Double => "Double",
            Prim::Decimal => "Decimal",
        }
    }

    /// The keyword for a keyword or CLR name.
    pub fn from_name(name: &str) -> Option<Prim> {
        Prim::ALL
            .into_iter()
            .find(|p| p.keyword() == name || p.clr_name() == name)
    }

    /// Whether it is an integral type (`char` included, as C# counts it for conversions).
    pub fn is_integral(self) -> bool {
        !matches!(
            self,
            Prim::Bool | Prim::Float | Prim::Double | Prim::Decimal
        )
    }

    /// Whether it is a numeric type: integral (not `char`), floating or decimal.
    pub fn is_numeric(self) -> bool {
        !matches!(self, Prim::Bool | Prim::Char)
    }

    /// Whether the integral type is signed.
    pub fn is_signed(self) -> bool {
        matches!(
            self,
            Prim::SByte
                | Prim::Short
                | Prim::Int
                | Prim::Long
                | Prim::Float
                | Prim::Double
                | Prim::Decimal
        )
    }

    /// Bit width of an integral type.
    pub fn bits(self) -> u32 {
        match self {
            Prim::SByte | Prim::Byte => 8,
            Prim::Short | Prim::UShort | Prim::Char => 16,
            Prim::Int | Prim::UInt | Prim::Float => 32,
            Prim::Long | Prim::ULong | Prim::Double => 64,
            Prim::Decimal => 128,
            Prim::Bool => 1,
        }
    }

    /// Whether C# has an implicit numeric conversion from `self` to `to` (identity included).
    pub fn implicit_to(self, to: Prim) -> bool {
        use Prim::*;
        if self == to {
            return true;
        }
        match self {
            SByte => matches!(to, Short | Int | Long | Float | Double | Decimal),
            Byte => matches!(
                to,
                Short | UShort | Int | UInt | Long | ULong | Float | Double | Decimal
            ),
            Short => matches!(to, Int | Long | Float | Double | Decimal),
            UShort => matches!(to, Int | UInt | Long | ULong | Float | Double | Decimal),
            Int => matches!(to, Long | Float | Double | Decimal),
            UInt => matches!(to, Long | ULong | Float | Double | Decimal),
            Long | ULong => matches!(to, Float | Double | Decimal),
            Char => matches!(
                to,
                UShort | Int | UInt | Long | ULong | Float | Double | Decimal
            ),
            Float => to == Double,
            _ => false,
        }
    }

    /// Whether an explicit numeric conversion exists (every pair of numeric types and `char`).
    pub fn explicit_to(self, to: Prim) -> bool {
        self == to || (self != Prim::Bool && to != Prim::Bool)
    }
}

/// A type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    /// Not known: an unresolved named value, or a type after an error. Converts to and from
    /// every type without a diagnostic.
    Unknown,
    /// The type of the `null` literal.
    Null,
    /// No value: the result of a `void` method.
    Void,
    /// A predefined value type.
    Prim(Prim),
    /// `string`
    String,
    /// `object`
    Object,
    /// `T?` for a value type `T`.
    Nullable(Box<Ty>),
    /// `T[]`
    Array(Box<Ty>),
    /// A type of the library, with its type arguments.
    Named(TypeId, Vec<Ty>),
    /// A type parameter: of the declaring type (`0..n`) then of the method (`n..`).
    Param(u16),
    /// A lambda whose parameter types are not known yet (only while checking a call).
    Lambda(u32),
    /// An anonymous type `new { a = 1, b = "x" }`: its properties in order.
    Anonymous(std::sync::Arc<[(String, Ty)]>),
}

impl Ty {
    /// `int`
    pub const INT: Ty = Ty::Prim(Prim::Int);
    /// `bool`
    pub const BOOL: Ty = Ty::Prim(Prim::Bool);
    /// `double`
    pub const DOUBLE: Ty = Ty::Prim(Prim::Double);
    /// `long`
    pub const LONG: Ty = Ty::Prim(Prim::Long);
    /// `char`
    pub const CHAR: Ty = Ty::Prim(Prim::Char);

    /// The predefined type, if it is one.
    pub fn prim(&self) -> Option<Prim> {
        match self {
            Ty::Prim(p) => Some(*p),
            _ => None,
        }
    }

    /// Whether values of the type are never null (value types other than `T?`).
    pub fn is_value_type(&self, lib: &Library) -> bool {
        match self {
            Ty::Prim(_) => true,
            Ty::Named(id, _) => lib.ty(*id).is_value_type(),
            _ => false,
        }
    }

    /// Whether `null` converts to the type.
    pub fn accepts_null(&self, lib: &Library) -> bool {
        match self {
            Ty::Nullable(_) | Ty::Unknown | Ty::Null | Ty::String | Ty::Object | Ty::Array(_) => {
                true
            }
            Ty::Param(_) | Ty::Lambda(_) => true,
            Ty::Void => false,
            _ => !self.is_value_type(lib),
        }
    }

    /// `T` for `T?`, the type itself otherwise.
    pub fn strip_nullable(&self) -> &Ty {
        match self {
            Ty::Nullable(t) => t,
            t => t,
        }
    }

    /// Substitutes type parameters.
    pub fn subst(&self, args: &[Ty]) -> Ty {
        match self {
            Ty::Param(i) => args.get(*i as usize).cloned().unwrap_or(Ty::Unknown),
            Ty::Nullable(t) => Ty::Nullable(Box::new(t.subst(args))),
            Ty::Array(t) => Ty::Array(Box::new(t.subst(args))),
            Ty::Named(id, a) => Ty::Named(*id, a.iter().map(|t| t.subst(args)).collect()),
            t => t.clone(),
        }
    }

    /// Whether the type mentions a type parameter.
    pub fn has_params(&self) -> bool {
        match self {
            Ty::Param(_) => true,
            Ty::Nullable(t) | Ty::Array(t) => t.has_params(),
            Ty::Named(_, a) => a.iter().any(Ty::has_params),
            _ => false,
        }
    }

    /// Whether the type is or contains `Unknown`.
    pub fn is_unknown(&self) -> bool {
        match self {
            Ty::Unknown => true,
            Ty::Nullable(t) | Ty::Array(t) => t.is_unknown(),
            Ty::Named(_, a) => a.iter().any(Ty::is_unknown),
            _ => false,
        }
    }

    /// Displays the type as C# writes it.
    pub fn display<'a>(&'a self, lib: &'a Library) -> TyDisplay<'a> {
        TyDisplay { ty: self, lib }
    }
}

/// C# spelling of a type.
#[derive(Debug)]
pub struct TyDisplay<'a> {
    ty: &'a Ty,
    lib: &'a Library,
}

impl fmt::Display for TyDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lib = self.lib;
        match self.ty {
            Ty::Unknown => f.write_str("?"),
            Ty::Null => f.write_str("<null>"),
            Ty::Void => f.write_str("void"),
            Ty::Prim(p) => f.write_str(p.keyword()),
            Ty::String => f.write_str("string"),
            Ty::Object => f.write_str("object"),
            Ty::Nullable(t) => write!(f, "{}?", t.display(lib)),
            Ty::Array(t) => write!(f, "{}[]", t.display(lib)),
            Ty::Named(id, args) => {
                f.write_str(&lib.ty(*id).name)?;
                if !args.is_empty() {
                    f.write_str("<")?;
                    for (i, a) in args.iter().enumerate() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "{}", a.display(lib))?;
                    }
                    f.write_str(">")?;
                }
                Ok(())
            }
            Ty::Param(i) => write!(f, "T{i}"),
            Ty::Lambda(_) => f.write_str("lambda"),
            Ty::Anonymous(fields) => {
                f.write_str("<anonymous type:")?;
                for (i, (n, t)) in fields.iter().enumerate() {
                    write!(
                        f,
                        "{} {} {n}",
                        if i == 0 { "" } else { "," },
                        t.display(lib)
                    )?;
                }
                f.write_str(">")
            }
        }
    }
}
