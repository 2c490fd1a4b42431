//! The message and enum descriptors the transcoder walks, loaded once from the embedded
//! `FileDescriptorSet`.

use super::wire::*;
use super::*;

/// A prost mirror of the parts of `google/protobuf/descriptor.proto` this module reads.
pub(super) mod descriptor {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct FileDescriptorSet {
        #[prost(message, repeated, tag = "1")]
        pub file: Vec<FileDescriptorProto>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct FileDescriptorProto {
        #[prost(string, optional, tag = "2")]
        pub package: Option<String>,
        #[prost(message, repeated, tag = "4")]
        pub message_type: Vec<DescriptorProto>,
        #[prost(message, repeated, tag = "5")]
        pub enum_type: Vec<EnumDescriptorProto>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct DescriptorProto {
        #[prost(string, optional, tag = "1")]
        pub name: Option<String>,
        #[prost(message, repeated, tag = "2")]
        pub field: Vec<FieldDescriptorProto>,
        #[prost(message, repeated, tag = "3")]
        pub nested_type: Vec<DescriptorProto>,
        #[prost(message, repeated, tag = "4")]
        pub enum_type: Vec<EnumDescriptorProto>,
        #[prost(message, optional, tag = "7")]
        pub options: Option<MessageOptions>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct MessageOptions {
        #[prost(bool, optional, tag = "7")]
        pub map_entry: Option<bool>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct FieldDescriptorProto {
        #[prost(string, optional, tag = "1")]
        pub name: Option<String>,
        #[prost(int32, optional, tag = "3")]
        pub number: Option<i32>,
        #[prost(int32, optional, tag = "4")]
        pub label: Option<i32>,
        #[prost(int32, optional, tag = "5")]
        pub r#type: Option<i32>,
        #[prost(string, optional, tag = "6")]
        pub type_name: Option<String>,
        #[prost(string, optional, tag = "7")]
        pub default_value: Option<String>,
        #[prost(message, optional, tag = "8")]
        pub options: Option<FieldOptions>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct FieldOptions {
        #[prost(bool, optional, tag = "3")]
        pub deprecated: Option<bool>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct EnumDescriptorProto {
        #[prost(string, optional, tag = "1")]
        pub name: Option<String>,
        #[prost(message, repeated, tag = "2")]
        pub value: Vec<EnumValueDescriptorProto>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct EnumValueDescriptorProto {
        #[prost(string, optional, tag = "1")]
        pub name: Option<String>,
        #[prost(int32, optional, tag = "2")]
        pub number: Option<i32>,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Label {
    Optional,
    Required,
    Repeated,
}

/// A field's type (`FieldDescriptorProto.Type`); groups are `Unsupported` and skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Double,
    Float,
    Int64,
    UInt64,
    Int32,
    Fixed64,
    Fixed32,
    Bool,
    String,
    Message,
    Bytes,
    UInt32,
    Enum,
    SFixed32,
    SFixed64,
    SInt32,
    SInt64,
    Unsupported,
}

impl Kind {
    pub(super) fn from_descriptor(n: i32) -> Kind {
        const KINDS: [Kind; 18] = [
            Kind::Double,
            Kind::Float,
            Kind::Int64,
            Kind::UInt64,
            Kind::Int32,
            Kind::Fixed64,
            Kind::Fixed32,
            Kind::Bool,
            Kind::String,
            Kind::Unsupported, // TYPE_GROUP = 10
            Kind::Message,
            Kind::Bytes,
            Kind::UInt32,
            Kind::Enum,
            Kind::SFixed32,
            Kind::SFixed64,
            Kind::SInt32,
            Kind::SInt64,
        ];
        usize::try_from(n - 1).ok().and_then(|i| KINDS.get(i).copied()).unwrap_or(Kind::Unsupported)
    }

    /// The wire type of one (unpacked) value.
    pub(super) fn wire_type(self) -> WireType {
        match self {
            Kind::Double | Kind::Fixed64 | Kind::SFixed64 => WireType::SixtyFourBit,
            Kind::Float | Kind::Fixed32 | Kind::SFixed32 => WireType::ThirtyTwoBit,
            Kind::String | Kind::Bytes | Kind::Message | Kind::Unsupported => WireType::LengthDelimited,
            _ => WireType::Varint,
        }
    }
}

#[derive(Debug)]
pub(super) struct FieldDesc {
    pub(super) name: String,
    pub(super) number: u32,
    pub(super) label: Label,
    pub(super) kind: Kind,
    /// Fully qualified message or enum type name (`.mesos.v1.Offer`).
    pub(super) type_name: String,
    /// The explicit `[default = …]`, if any, as descriptor text.
    pub(super) default: Option<String>,
    pub(super) deprecated: bool,
    /// A repeated field written as `[]` when empty (see [`ALWAYS_WRITTEN`]).
    pub(super) write_empty: bool,
}

/// Repeated fields the master writes even when empty: the top-level arrays of the operator
/// API's GET_AGENTS, GET_FRAMEWORKS and GET_TASKS answers, which upstream serialises by hand
/// (`readonly_handler.cpp`) instead of through the generic path that omits empty arrays.
const ALWAYS_WRITTEN: &[(&str, &[&str])] = &[
    (".mesos.v1.master.Response.GetAgents", &["agents", "recovered_agents"]),
    (".mesos.v1.master.Response.GetFrameworks", &["frameworks", "completed_frameworks"]),
    (".mesos.v1.master.Response.GetTasks", &["tasks", "unreachable_tasks", "completed_tasks"]),
];

#[derive(Debug, Default)]
pub(super) struct MessageDesc {
    pub(super) fields: Vec<FieldDesc>,
    pub(super) map_entry: bool,
}

#[derive(Debug, Default)]
pub(super) struct Schema {
    pub(super) messages: HashMap<String, MessageDesc>,
    pub(super) enums: HashMap<String, Vec<(String, i32)>>,
}

pub(super) fn schema() -> Result<&'static Schema, JsonError> {
    static SCHEMA: OnceLock<Result<Schema, String>> = OnceLock::new();
    SCHEMA
        .get_or_init(|| Schema::load(DESCRIPTORS))
        .as_ref()
        .map_err(|message| JsonError::Internal { message: message.clone() })
}

impl Schema {
    pub(super) fn load(bytes: &[u8]) -> Result<Schema, String> {
        let set = descriptor::FileDescriptorSet::decode(bytes).map_err(|e| format!("bad descriptors: {e}"))?;
        let mut schema = Schema::default();
        for file in &set.file {
            let prefix = match file.package.as_deref() {
                Some(p) if !p.is_empty() => format!(".{p}"),
                _ => String::new(),
            };
            for e in &file.enum_type {
                schema.add_enum(&prefix, e);
            }
            for m in &file.message_type {
                schema.add_message(&prefix, m);
            }
        }
        Ok(schema)
    }

    pub(super) fn add_enum(&mut self, prefix: &str, e: &descriptor::EnumDescriptorProto) {
        let values = e.value.iter().map(|v| (v.name.clone().unwrap_or_default(), v.number.unwrap_or(0))).collect();
        self.enums.insert(format!("{prefix}.{}", e.name.as_deref().unwrap_or_default()), values);
    }

    pub(super) fn add_message(&mut self, prefix: &str, m: &descriptor::DescriptorProto) {
        let full = format!("{prefix}.{}", m.name.as_deref().unwrap_or_default());
        for e in &m.enum_type {
            self.add_enum(&full, e);
        }
        for nested in &m.nested_type {
            self.add_message(&full, nested);
        }
        let always: &[&str] = ALWAYS_WRITTEN.iter().find(|(name, _)| *name == full).map_or(&[], |(_, f)| f);
        let fields = m
            .field
            .iter()
            .map(|f| FieldDesc {
                name: f.name.clone().unwrap_or_default(),
                number: f.number.and_then(|n| u32::try_from(n).ok()).unwrap_or(0),
                label: match f.label {
                    Some(2) => Label::Required,
                    Some(3) => Label::Repeated,
                    _ => Label::Optional,
                },
                kind: Kind::from_descriptor(f.r#type.unwrap_or(0)),
                type_name: f.type_name.clone().unwrap_or_default(),
                default: f.default_value.clone(),
                deprecated: f.options.as_ref().and_then(|o| o.deprecated).unwrap_or(false),
                write_empty: f.name.as_deref().is_some_and(|n| always.contains(&n)),
            })
            .collect();
        let map_entry = m.options.as_ref().and_then(|o| o.map_entry).unwrap_or(false);
        self.messages.insert(full, MessageDesc { fields, map_entry });
    }

    pub(super) fn map_entry(&self, field: &FieldDesc) -> Option<&MessageDesc> {
        if field.kind != Kind::Message || field.label != Label::Repeated {
            return None;
        }
        self.messages.get(&field.type_name).filter(|m| m.map_entry)
    }

    pub(super) fn check_required(
        &self,
        desc: &MessageDesc,
        bytes: &[u8],
        path: &mut String,
        missing: &mut Vec<String>,
    ) {
        let (entries, _complete) = read_fields(bytes);
        for field in &desc.fields {
            let mark = push_field(path, &field.name);
            let mut values = entries.iter().filter(|(n, _)| *n == field.number).map(|(_, v)| v).peekable();
            if field.label == Label::Required && values.peek().is_none() {
                missing.push(path.clone());
            }
            if field.kind == Kind::Message {
                if let Some(sub) = self.messages.get(&field.type_name) {
                    for (i, value) in values.enumerate() {
                        if let WireValue::Bytes(b) = value {
                            let inner = path.len();
                            if field.label == Label::Repeated {
                                path.push_str(&format!("[{i}]"));
                            }
                            self.check_required(sub, b, path, missing);
                            path.truncate(inner);
                        }
                    }
                }
            }
            path.truncate(mark);
        }
    }
}
