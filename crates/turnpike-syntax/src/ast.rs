//! The syntax tree of policy expressions. Every node has a span in the original file.
//!
//! Literals keep the text they were written with (`raw`) so that the printer reproduces them
//! exactly; string and character literals also carry their decoded value.

use turnpike_diagnostics::Span;

/// An identifier with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The name, without a leading `@`.
    pub name: String,
    /// Where it is written.
    pub span: Span,
}

/// A type as written: `string`, `JObject`, `Dictionary<string, int>`, `int?`, `string[]`.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeRef {
    /// What kind of type.
    pub kind: TypeKind,
    /// Where it is written.
    pub span: Span,
}

/// The forms of a type.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeKind {
    /// A keyword type such as `int` or `string`.
    Predefined(String),
    /// A possibly qualified, possibly generic name: `System.Text.Encoding`, `List<int>`.
    Named(Vec<TypeSegment>),
    /// `T?`
    Nullable(Box<TypeRef>),
    /// `T[]` (rank 1), `T[,]` (rank 2), ...
    Array(Box<TypeRef>, u8),
}

/// One dotted part of a type name.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeSegment {
    /// The identifier.
    pub name: Ident,
    /// Its type arguments, if any.
    pub args: Vec<TypeRef>,
}

/// An expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What kind of expression.
    pub kind: ExprKind,
    /// Where it is written.
    pub span: Span,
}

/// The forms of an expression.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A literal.
    Literal(Literal),
    /// `$"..."` or `$@"..."`.
    Interpolated {
        /// Whether it is the verbatim form.
        verbatim: bool,
        /// The prefix as written: `$"`, `$@"` or `@$"`.
        prefix: String,
        /// Text and holes.
        parts: Vec<InterpPart>,
    },
    /// A `{{name}}` placeholder whose value is not known: a value of unknown type.
    NamedValue(String),
    /// A simple name, possibly with type arguments: `context`, `Convert`, `Foo<int>`.
    Name {
        /// The identifier.
        name: Ident,
        /// Type arguments (`<...>`).
        type_args: Vec<TypeRef>,
    },
    /// A keyword type used as an expression, as in `string.Join` or `int.Parse`.
    PredefinedType(String),
    /// `target.name` or `target?.name`.
    Member {
        /// What the member is read from.
        target: Box<Expr>,
        /// The member.
        name: Ident,
        /// Type arguments of a generic method.
        type_args: Vec<TypeRef>,
        /// `?.`
        null_conditional: bool,
    },
    /// `callee(args)`.
    Call {
        /// What is called.
        callee: Box<Expr>,
        /// The arguments.
        args: Vec<Arg>,
    },
    /// `target[args]` or `target?[args]`.
    Index {
        /// What is indexed.
        target: Box<Expr>,
        /// The indices.
        args: Vec<Arg>,
        /// `?[`
        null_conditional: bool,
    },
    /// A prefix operator.
    Unary {
        /// Which one.
        op: UnaryOp,
        /// Its operand.
        operand: Box<Expr>,
    },
    /// `x++` or `x--`.
    Postfix {
        /// Which one.
        op: PostfixOp,
        /// Its operand.
        operand: Box<Expr>,
    },
    /// A binary operator.
    Binary {
        /// Which one.
        op: BinaryOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// `target = value`, `target += value`, ...
    Assign {
        /// Which assignment.
        op: AssignOp,
        /// A variable, member or indexer.
        target: Box<Expr>,
        /// The value.
        value: Box<Expr>,
    },
    /// `cond ? then : otherwise`.
    Conditional {
        /// The condition.
        cond: Box<Expr>,
        /// Value when true.
        then: Box<Expr>,
        /// Value when false.
        otherwise: Box<Expr>,
    },
    /// `(T)operand`.
    Cast {
        /// The target type.
        ty: TypeRef,
        /// The operand.
        operand: Box<Expr>,
    },
    /// `operand is pattern`.
    Is {
        /// The tested value.
        operand: Box<Expr>,
        /// The pattern.
        pattern: Box<Pattern>,
    },
    /// `operand as T`.
    As {
        /// The converted value.
        operand: Box<Expr>,
        /// The target type.
        ty: TypeRef,
    },
    /// `x => body`, `(a, b) => body`, `(int a) => { ... }`.
    Lambda {
        /// Parameters.
        params: Vec<LambdaParam>,
        /// Body.
        body: LambdaBody,
    },
    /// `new ...`.
    New(New),
    /// `( expr )`, kept so that printing reproduces the source's grouping.
    Paren(Box<Expr>),
    /// `typeof(T)`.
    TypeOf(TypeRef),
    /// `default(T)` or `default`.
    Default(Option<TypeRef>),
    /// `checked(expr)`.
    Checked(Box<Expr>),
    /// `unchecked(expr)`.
    Unchecked(Box<Expr>),
    /// `nameof(expr)`.
    NameOf(Box<Expr>),
    /// `throw expr` used as an expression.
    Throw(Box<Expr>),
    /// `this`.
    This,
}

/// A literal value.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// An integer literal as written (`42`, `0xFF`, `10L`, `1_000u`).
    Integer(String),
    /// A real literal as written (`1.5`, `2e10`, `3m`, `1f`).
    Real(String),
    /// A character literal.
    Char {
        /// As written, quotes included.
        raw: String,
        /// The UTF-16 code unit it stands for.
        value: u16,
    },
    /// A regular or verbatim string literal.
    String {
        /// As written, quotes (and `@`) included.
        raw: String,
        /// The decoded value.
        value: String,
    },
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// A piece of an interpolated string.
#[derive(Clone, Debug, PartialEq)]
pub enum InterpPart {
    /// Literal text of the string.
    Text {
        /// As written (escapes and doubled braces not decoded).
        raw: String,
        /// Its value.
        value: String,
    },
    /// `{expr,align:format}`.
    Hole {
        /// The value.
        expr: Expr,
        /// Optional alignment.
        align: Option<Expr>,
        /// Optional format string, as written.
        format: Option<String>,
    },
}

/// Prefix operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    /// `+x`
    Plus,
    /// `-x`
    Minus,
    /// `!x`
    Not,
    /// `~x`
    BitNot,
    /// `++x`
    PreIncrement,
    /// `--x`
    PreDecrement,
}

/// Postfix operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostfixOp {
    /// `x++`
    Increment,
    /// `x--`
    Decrement,
}

/// Binary operators, from loosest to tightest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    /// `??` (right-associative)
    Coalesce,
    /// `||`
    Or,
    /// `&&`
    And,
    /// `|`
    BitOr,
    /// `^`
    BitXor,
    /// `&`
    BitAnd,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `>=`
    Ge,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
}

impl BinaryOp {
    /// The operator's token.
    pub fn as_str(self) -> &'static str {
        use BinaryOp::*;
        match self {
            Coalesce => "??",
            Or => "||",
            And => "&&",
            BitOr => "|",
            BitXor => "^",
            BitAnd => "&",
            Eq => "==",
            Ne => "!=",
            Lt => "<",
            Gt => ">",
            Le => "<=",
            Ge => ">=",
            Shl => "<<",
            Shr => ">>",
            Add => "+",
            Sub => "-",
            Mul => "*",
            Div => "/",
            Rem => "%",
        }
    }

    /// Binding strength: higher binds tighter. `is` and `as` share the relational level.
    pub fn precedence(self) -> u8 {
        use BinaryOp::*;
        match self {
            Coalesce => 1,
            Or => 2,
            And => 3,
            BitOr => 4,
            BitXor => 5,
            BitAnd => 6,
            Eq | Ne => 7,
            Lt | Gt | Le | Ge => RELATIONAL_PRECEDENCE,
            Shl | Shr => 9,
            Add | Sub => 10,
            Mul | Div | Rem => 11,
        }
    }

    /// Whether `a op b op c` groups as `a op (b op c)`.
    pub fn right_associative(self) -> bool {
        self == BinaryOp::Coalesce
    }
}

/// Precedence of relational operators and of `is` / `as`.
pub const RELATIONAL_PRECEDENCE: u8 = 8;

/// Assignment operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssignOp {
    /// `=`
    Assign,
    /// `+=`, `-=`, ... : the binary operator applied before storing.
    Compound(BinaryOp),
    /// `??=`
    CoalesceAssign,
}

impl AssignOp {
    /// The operator's token.
    pub fn as_str(self) -> String {
        match self {
            AssignOp::Assign => "=".to_string(),
            AssignOp::Compound(op) => format!("{}=", op.as_str()),
            AssignOp::CoalesceAssign => "??=".to_string(),
        }
    }
}

/// A call or indexer argument.
#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    /// `name:` for a named argument.
    pub name: Option<Ident>,
    /// `out`, `ref`, `in` or none.
    pub modifier: ArgModifier,
    /// The value or an `out` declaration.
    pub value: ArgValue,
    /// Where the argument is written.
    pub span: Span,
}

/// Argument passing modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgModifier {
    /// By value.
    None,
    /// `out`
    Out,
    /// `ref`
    Ref,
    /// `in`
    In,
}

/// What an argument passes.
#[derive(Clone, Debug, PartialEq)]
pub enum ArgValue {
    /// An expression.
    Expr(Expr),
    /// `out T name` or `out var name`.
    OutDecl {
        /// The declared type (`var` for inferred).
        ty: TypeRef,
        /// The new variable.
        name: Ident,
    },
}

/// A pattern after `is`.
#[derive(Clone, Debug, PartialEq)]
pub enum Pattern {
    /// A constant: `null`, `5`, `"x"`.
    Constant(Expr),
    /// A type, optionally binding a variable: `string`, `JObject o`.
    Type {
        /// The type.
        ty: TypeRef,
        /// The variable bound on success.
        binding: Option<Ident>,
    },
    /// `not pattern`.
    Not(Box<Pattern>),
}

/// A lambda parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct LambdaParam {
    /// Explicit type, when written.
    pub ty: Option<TypeRef>,
    /// The name.
    pub name: Ident,
}

/// A lambda body.
#[derive(Clone, Debug, PartialEq)]
pub enum LambdaBody {
    /// `=> expr`
    Expr(Box<Expr>),
    /// `=> { statements }`
    Block(Block),
}

/// A `new` expression.
#[derive(Clone, Debug, PartialEq)]
pub enum New {
    /// `new T(args) { initializer }` (either part may be missing, not both).
    Object {
        /// The type.
        ty: TypeRef,
        /// Constructor arguments, when parentheses are written.
        args: Option<Vec<Arg>>,
        /// Object or collection initializer.
        init: Option<Vec<InitElement>>,
    },
    /// `new T[n]`, `new T[] { ... }`, `new T[n][]`.
    Array {
        /// The element type (not itself an array).
        element: TypeRef,
        /// Sizes of the first rank, when given.
        sizes: Vec<Expr>,
        /// Ranks of every `[...]`, outermost first (the first is the sized one when sizes
        /// are given).
        ranks: Vec<u8>,
        /// Initializer.
        init: Option<Vec<VarInit>>,
    },
    /// `new[] { ... }`.
    ImplicitArray {
        /// Rank (commas + 1).
        rank: u8,
        /// Elements.
        init: Vec<VarInit>,
    },
    /// `new { a = 1, b }`.
    Anonymous(Vec<AnonMember>),
}

/// A member of an anonymous object.
#[derive(Clone, Debug, PartialEq)]
pub struct AnonMember {
    /// `name =`, when written; otherwise the name comes from the expression.
    pub name: Option<Ident>,
    /// The value.
    pub value: Expr,
}

/// An element of an object or collection initializer.
#[derive(Clone, Debug, PartialEq)]
pub enum InitElement {
    /// `Name = value`
    Member {
        /// The member.
        name: Ident,
        /// Its value.
        value: InitValue,
    },
    /// `[index] = value`
    Indexer {
        /// The index arguments.
        args: Vec<Arg>,
        /// The value.
        value: InitValue,
    },
    /// `{ a, b }`: a call to `Add(a, b)`.
    List(Vec<Expr>),
    /// `a`: a call to `Add(a)`.
    Expr(Expr),
}

/// The value given to a member or indexer in an initializer.
#[derive(Clone, Debug, PartialEq)]
pub enum InitValue {
    /// An expression.
    Expr(Expr),
    /// A nested object or collection initializer.
    Nested(Vec<InitElement>),
}

/// An element of an array initializer.
#[derive(Clone, Debug, PartialEq)]
pub enum VarInit {
    /// An expression.
    Expr(Expr),
    /// A nested `{ ... }` (multi-dimensional or jagged arrays).
    Nested(Vec<VarInit>),
}

/// `{ statements }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// The statements.
    pub stmts: Vec<Stmt>,
    /// From `{` to `}`.
    pub span: Span,
}

/// A statement.
#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    /// What kind.
    pub kind: StmtKind,
    /// Where it is written.
    pub span: Span,
}

/// The forms of a statement.
#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    /// `{ ... }`
    Block(Block),
    /// `;`
    Empty,
    /// `var x = 1, y;` or `const int n = 3;`
    Declaration(LocalDecl),
    /// `expr;`
    Expr(Expr),
    /// `if (cond) then else otherwise`
    If {
        /// The condition.
        cond: Expr,
        /// Taken when true.
        then: Box<Stmt>,
        /// Taken when false.
        otherwise: Option<Box<Stmt>>,
    },
    /// `while (cond) body`
    While {
        /// The condition.
        cond: Expr,
        /// The body.
        body: Box<Stmt>,
    },
    /// `do body while (cond);`
    Do {
        /// The body.
        body: Box<Stmt>,
        /// The condition.
        cond: Expr,
    },
    /// `for (init; cond; iter) body`
    For {
        /// Initializer.
        init: Option<ForInit>,
        /// Condition.
        cond: Option<Expr>,
        /// Iterators.
        iter: Vec<Expr>,
        /// Body.
        body: Box<Stmt>,
    },
    /// `foreach (T name in expr) body`
    Foreach {
        /// The loop variable's type (`var` for inferred).
        ty: TypeRef,
        /// The loop variable.
        name: Ident,
        /// The collection.
        expr: Expr,
        /// Body.
        body: Box<Stmt>,
    },
    /// `switch (expr) { sections }`
    Switch {
        /// The governing value.
        expr: Expr,
        /// The sections.
        sections: Vec<SwitchSection>,
    },
    /// `return expr;`
    Return(Option<Expr>),
    /// `throw expr;`
    Throw(Option<Expr>),
    /// `break;`
    Break,
    /// `continue;`
    Continue,
    /// `using (resource) body`
    Using {
        /// A declaration or an expression.
        resource: ForInit,
        /// The body.
        body: Box<Stmt>,
    },
    /// A local function: `string F(int a) { ... }`.
    LocalFunction(Box<LocalFunction>),
    /// `try { } catch (...) { } finally { }`
    Try {
        /// The protected block.
        body: Block,
        /// Catch clauses.
        catches: Vec<CatchClause>,
        /// Finally block.
        finally: Option<Block>,
    },
}

/// A local function declared inside a block.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalFunction {
    /// Return type; `None` for `void`.
    pub returns: Option<TypeRef>,
    /// The function's name.
    pub name: Ident,
    /// Parameters.
    pub params: Vec<Param>,
    /// Body: a block, or `=> expr;`.
    pub body: LambdaBody,
}

/// A parameter of a local function.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// `out`, `ref`, `in` or none.
    pub modifier: ArgModifier,
    /// The type.
    pub ty: TypeRef,
    /// The name.
    pub name: Ident,
    /// Default value.
    pub default: Option<Expr>,
}

/// A local variable declaration.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalDecl {
    /// `const`.
    pub is_const: bool,
    /// The declared type (`var` for inferred).
    pub ty: TypeRef,
    /// The variables.
    pub vars: Vec<Declarator>,
}

/// `name = init`.
#[derive(Clone, Debug, PartialEq)]
pub struct Declarator {
    /// The variable.
    pub name: Ident,
    /// Its initial value.
    pub init: Option<VarInit>,
}

/// The first clause of a `for`.
#[derive(Clone, Debug, PartialEq)]
pub enum ForInit {
    /// `int i = 0`
    Declaration(LocalDecl),
    /// `i = 0, j = 1`
    Exprs(Vec<Expr>),
}

/// Labels and statements of a `switch`.
#[derive(Clone, Debug, PartialEq)]
pub struct SwitchSection {
    /// `case ...:` and `default:` labels.
    pub labels: Vec<SwitchLabel>,
    /// The statements.
    pub stmts: Vec<Stmt>,
}

/// A switch label.
#[derive(Clone, Debug, PartialEq)]
pub enum SwitchLabel {
    /// `case value when guard:`
    Case {
        /// A constant or a type pattern.
        pattern: Pattern,
        /// `when` guard.
        guard: Option<Expr>,
        /// Where the label is.
        span: Span,
    },
    /// `default:`
    Default(Span),
}

/// `catch (T name) when (filter) { ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct CatchClause {
    /// The exception type, when given.
    pub ty: Option<TypeRef>,
    /// The variable, when given.
    pub name: Option<Ident>,
    /// The `when` filter.
    pub filter: Option<Expr>,
    /// The handler.
    pub body: Block,
}
