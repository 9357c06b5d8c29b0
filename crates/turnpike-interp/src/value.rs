//! Run-time values: .NET values as the interpreter holds them.
//!
//! Value types are held inline; reference types share through `Rc` so that aliasing behaves
//! as in .NET (a `List<T>` passed to a lambda and changed there is changed for everyone). A
//! `T?` is held as a `T` or `Null`. Strings are Rust strings; their .NET operations work on
//! UTF-16 code units (see `strings`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;

use rust_decimal::Decimal;
use turnpike_ir::ir::Lambda;
use turnpike_ir::{Prim, Ty, TypeId};

use crate::context::HostRef;
use crate::dotnet::datetime::{DateTime, DateTimeOffset, TimeSpan};

/// A value.
#[derive(Clone)]
pub enum Value {
    /// `null`.
    Null,
    /// `bool`
    Bool(bool),
    /// `char`
    Char(u16),
    /// `sbyte`
    SByte(i8),
    /// `byte`
    Byte(u8),
    /// `short`
    Short(i16),
    /// `ushort`
    UShort(u16),
    /// `int`
    Int(i32),
    /// `uint`
    UInt(u32),
    /// `long`
    Long(i64),
    /// `ulong`
    ULong(u64),
    /// `float`
    Float(f32),
    /// `double`
    Double(f64),
    /// `decimal`
    Decimal(Decimal),
    /// `string`
    Str(Arc<str>),
    /// A value of an enum type.
    Enum(TypeId, i64),
    /// `DateTime`
    DateTime(DateTime),
    /// `TimeSpan`
    TimeSpan(TimeSpan),
    /// `DateTimeOffset`
    DateTimeOffset(DateTimeOffset),
    /// `Guid`
    Guid(u128),
    /// `KeyValuePair<K, V>` (a struct).
    Pair(Rc<(Value, Value)>),
    /// `T[]`
    Array(Rc<Array>),
    /// Every other reference type.
    Obj(Rc<Obj>),
}

/// An array: fixed length, mutable elements.
#[derive(Debug)]
pub struct Array {
    /// The element type.
    pub elem: Ty,
    /// The elements.
    pub items: RefCell<Vec<Value>>,
}

/// Reference-type objects.
pub enum Obj {
    /// `List<T>`
    List(Ty, RefCell<Vec<Value>>),
    /// `Dictionary<K, V>` (insertion-ordered, as .NET's is without removals).
    Dict(Ty, Ty, RefCell<Dict>),
    /// `HashSet<T>` with its `StringComparer`, if any.
    Set(Ty, RefCell<Vec<Value>>, Option<&'static str>),
    /// A dictionary's `Keys` (true) or `Values` (false): a live view, as .NET's collections.
    DictView(Ty, Value, bool),
    /// A materialized sequence (results of eager LINQ operators).
    Seq(Ty, Vec<Value>),
    /// A deferred `Select` (true) or `Where` (false): source, delegate, whether the delegate
    /// takes the index too. Enumerating it runs the delegate, as LINQ's iterators do.
    Lazy(Ty, Value, Value, bool, bool),
    /// `StringBuilder`
    Builder(RefCell<String>),
    /// A delegate: a lambda of the running body, with the values of the loop variables it
    /// captured when it was created.
    Func(Arc<Lambda>, Vec<Value>),
    /// An exception object.
    Exception(Exception),
    /// `Regex`
    Regex(Rc<crate::natives::regex::RegexObj>),
    /// `Match` / `Group` / `Capture`
    Match(Rc<crate::natives::regex::MatchObj>, usize),
    /// `GroupCollection` of a match.
    Groups(Rc<crate::natives::regex::MatchObj>),
    /// `MatchCollection`
    Matches(Vec<Value>),
    /// `Encoding` (UTF8, ASCII, Unicode...).
    Encoding(&'static str),
    /// `Random`
    Random(RefCell<u64>),
    /// An anonymous object.
    Anonymous(Vec<(Arc<str>, Value)>),
    /// `Uri`
    Uri(Arc<str>),
    /// A `context` object.
    Host(HostRef),
    /// A Newtonsoft JSON token.
    Json(crate::natives::json::JRef),
    /// A `StringComparer`: `Ordinal`, `OrdinalIgnoreCase`, `InvariantCulture`, ...
    Comparer(&'static str),
    /// An `IOrderedEnumerable<T>`: the source, the sort keys (key selector, descending,
    /// comparer) and the sorted items.
    Sorted(Vec<Value>, Vec<SortKey>, Vec<Value>),
    /// A hash algorithm (`SHA256`, ...) with its HMAC key when keyed.
    Hasher(&'static str, RefCell<Option<Vec<u8>>>),
    /// A `StringWriter` (text appended by `Write`).
    Writer(RefCell<String>),
    /// A `Queue<T>` (front first) or a `Stack<T>` (top last): true for a stack.
    Queue(Ty, RefCell<std::collections::VecDeque<Value>>, bool),
    /// An `IGrouping<K, T>` from `GroupBy`.
    Grouping(Value, Vec<Value>),
    /// `Type` (from `typeof` / `GetType`).
    Type(Ty),
}

/// One key of an ordered sequence: the selector, whether descending, the comparer.
pub type SortKey = (Value, bool, Option<&'static str>);

/// Dictionary storage as .NET's `Dictionary`: entries in insertion order, except that a
/// removed entry's slot is reused by the next insertion (last freed, first reused), which is
/// the order enumeration shows.
#[derive(Default, Debug)]
pub struct Dict {
    slots: Vec<Option<(Value, Value)>>,
    free: Vec<usize>,
    /// Whether string keys compare ignoring case.
    pub ignore_case: bool,
    index: HashMap<String, usize>,
    /// Bumped when an entry is added or the dictionary cleared (not on removal or on
    /// replacing a value), as .NET's `Dictionary` version is: `foreach` watches it.
    pub version: u64,
}

impl Dict {
    /// An empty dictionary.
    pub fn new(ignore_case: bool) -> Self {
        Dict {
            slots: Vec::new(),
            free: Vec::new(),
            ignore_case,
            index: HashMap::new(),
            version: 0,
        }
    }

    fn key_text(&self, k: &Value) -> String {
        let t = key_of(k);
        if self.ignore_case {
            t.to_lowercase()
        } else {
            t
        }
    }

    /// The slot of a key.
    pub fn find(&self, k: &Value) -> Option<usize> {
        self.index.get(&self.key_text(k)).copied()
    }

    /// Reads a key.
    pub fn get(&self, k: &Value) -> Option<&Value> {
        self.find(k)
            .and_then(|i| self.slots[i].as_ref())
            .map(|(_, v)| v)
    }

    /// Sets a key (adds or replaces).
    pub fn set(&mut self, k: Value, v: Value) {
        match self.find(&k) {
            Some(i) => {
                if let Some(e) = self.slots[i].as_mut() {
                    e.1 = v;
                }
            }
            None => {
                self.version += 1;
                let t = self.key_text(&k);
                let i = match self.free.pop() {
                    Some(i) => {
                        self.slots[i] = Some((k, v));
                        i
                    }
                    None => {
                        self.slots.push(Some((k, v)));
                        self.slots.len() - 1
                    }
                };
                self.index.insert(t, i);
            }
        }
    }

    /// Removes a key.
    pub fn remove(&mut self, k: &Value) -> bool {
        let t = self.key_text(k);
        match self.index.remove(&t) {
            Some(i) => {
                self.slots[i] = None;
                self.free.push(i);
                true
            }
            None => false,
        }
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        self.version += 1;
        self.slots.clear();
        self.free.clear();
        self.index.clear();
    }

    /// The entries in enumeration order.
    pub fn pairs(&self) -> Vec<(Value, Value)> {
        self.slots.iter().flatten().cloned().collect()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
}

/// A text form of a key that identifies it (type tag and value).
fn key_of(v: &Value) -> String {
    match v {
        Value::Str(s) => {
            let mut k = String::with_capacity(s.len() + 2);
            k.push_str("s:");
            k.push_str(s);
            k
        }
        other => format!("{:?}", other),
    }
}

/// A .NET exception in flight.
#[derive(Clone, Debug, PartialEq)]
pub struct Exception {
    /// The simple type name: `FormatException`.
    pub ty: Arc<str>,
    /// The message.
    pub message: String,
    /// `InnerException`.
    pub inner: Option<Box<Exception>>,
}

impl Exception {
    /// An exception of a type with a message.
    pub fn new(ty: &str, message: impl Into<String>) -> Self {
        Exception {
            ty: Arc::from(ty),
            message: message.into(),
            inner: None,
        }
    }

    /// `NullReferenceException`.
    pub fn null_ref() -> Self {
        Exception::new(
            "NullReferenceException",
            "Object reference not set to an instance of an object.",
        )
    }

    /// `FormatException` with .NET's usual message.
    pub fn format(msg: impl Into<String>) -> Self {
        Exception::new("FormatException", msg)
    }

    /// `InvalidCastException`.
    pub fn cast(from: &str, to: &str) -> Self {
        Exception::new(
            "InvalidCastException",
            format!("Unable to cast object of type '{from}' to type '{to}'."),
        )
    }

    /// `ArgumentOutOfRangeException`.
    pub fn range(param: &str) -> Self {
        Exception::new(
            "ArgumentOutOfRangeException",
            format!(
                "Specified argument was out of the range of valid values. (Parameter '{param}')"
            ),
        )
    }

    /// `ArgumentNullException`.
    pub fn arg_null(param: &str) -> Self {
        Exception::new(
            "ArgumentNullException",
            format!("Value cannot be null. (Parameter '{param}')"),
        )
    }

    /// `IndexOutOfRangeException`.
    pub fn index() -> Self {
        Exception::new(
            "IndexOutOfRangeException",
            "Index was outside the bounds of the array.",
        )
    }

    /// `DivideByZeroException`.
    pub fn divide_by_zero() -> Self {
        Exception::new("DivideByZeroException", "Attempted to divide by zero.")
    }

    /// The evaluation ran out of fuel (Turnpike's limit on loops and calls).
    pub fn out_of_fuel() -> Self {
        Exception::new(
            "TimeoutException",
            "the expression ran out of fuel: a loop or recursion ran too long",
        )
    }

    /// `OverflowException`.
    pub fn overflow() -> Self {
        Exception::new(
            "OverflowException",
            "Arithmetic operation resulted in an overflow.",
        )
    }

    /// `InvalidOperationException`.
    pub fn invalid_op(msg: impl Into<String>) -> Self {
        Exception::new("InvalidOperationException", msg)
    }

    /// `NotSupportedException`.
    pub fn not_supported(msg: impl Into<String>) -> Self {
        Exception::new("NotSupportedException", msg)
    }
}

impl Value {
    /// A string value.
    pub fn str(s: impl AsRef<str>) -> Value {
        Value::Str(Arc::from(s.as_ref()))
    }

    /// Wraps an object.
    pub fn obj(o: Obj) -> Value {
        Value::Obj(Rc::new(o))
    }

    /// Whether it is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// A new array.
    pub fn array(elem: Ty, items: Vec<Value>) -> Value {
        Value::Array(Rc::new(Array {
            elem,
            items: RefCell::new(items),
        }))
    }

    /// The predefined type of a primitive value.
    pub fn prim(&self) -> Option<Prim> {
        Some(match self {
            Value::Bool(_) => Prim::Bool,
            Value::Char(_) => Prim::Char,
            Value::SByte(_) => Prim::SByte,
            Value::Byte(_) => Prim::Byte,
            Value::Short(_) => Prim::Short,
            Value::UShort(_) => Prim::UShort,
            Value::Int(_) => Prim::Int,
            Value::UInt(_) => Prim::UInt,
            Value::Long(_) => Prim::Long,
            Value::ULong(_) => Prim::ULong,
            Value::Float(_) => Prim::Float,
            Value::Double(_) => Prim::Double,
            Value::Decimal(_) => Prim::Decimal,
            _ => return None,
        })
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Char(c) => write!(f, "'{}'", char::from_u32(*c as u32).unwrap_or('?')),
            Value::SByte(v) => write!(f, "{v}sb"),
            Value::Byte(v) => write!(f, "{v}b"),
            Value::Short(v) => write!(f, "{v}s"),
            Value::UShort(v) => write!(f, "{v}us"),
            Value::Int(v) => write!(f, "{v}"),
            Value::UInt(v) => write!(f, "{v}u"),
            Value::Long(v) => write!(f, "{v}L"),
            Value::ULong(v) => write!(f, "{v}UL"),
            Value::Float(v) => write!(f, "{v}f"),
            Value::Double(v) => write!(f, "{v}d"),
            Value::Decimal(v) => write!(f, "{v}m"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Enum(t, v) => write!(f, "enum{}:{v}", t.0),
            Value::DateTime(d) => write!(f, "DateTime({})", d.ticks),
            Value::TimeSpan(t) => write!(f, "TimeSpan({})", t.ticks),
            Value::DateTimeOffset(d) => {
                write!(f, "DateTimeOffset({},{})", d.ticks, d.offset_minutes)
            }
            Value::Guid(g) => write!(f, "Guid({g:x})"),
            Value::Pair(p) => write!(f, "[{:?}, {:?}]", p.0, p.1),
            Value::Array(a) => write!(f, "array@{:p}", Rc::as_ptr(a)),
            Value::Obj(o) => write!(f, "obj@{:p}", Rc::as_ptr(o)),
        }
    }
}

impl fmt::Debug for Obj {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Obj")
    }
}
