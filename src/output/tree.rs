//! The frame as a tree, for the outputs that show every item (`-V`, `-T json`): layers hold
//! items, items may hold subtrees, and a layer may hold layers (the packet quoted in an ICMP
//! error is drawn inside the ICMP layer, as tshark does).
//!
//! [`Tree`] turns the [`FieldSink`](netsniff_dissectors::FieldSink) calls of one frame into
//! that shape. Two rules make it tshark's:
//!
//! * A layer entered again (the flow engine adds `tcp.stream`, `tcp.seq` … after the TCP
//!   dissector ran) *merges*: each new top-level field goes before the first item whose field
//!   comes later in the protocol's declared field list ([`Proto::fields`], kept in tshark's
//!   tree order), so `[Stream index: 0]` lands after the ports. Items that are not fields go
//!   at the end.
//! * Between [`Tree::nest`] and [`Tree::unnest`], new layers go inside the current one.
//!
//! Each output keeps what it needs of a field in `T` (the `-V` line, the JSON value text). The
//! arena's buffers are reused from frame to frame.

use netsniff_dissectors::{FieldDef, Proto};

/// What a node is.
pub enum Item<T> {
    /// A protocol layer, with the text appended to its root line.
    Layer {
        proto: &'static Proto,
        appended: String,
        /// A root line that replaces the protocol's name (and its summary).
        title: Option<String>,
    },
    /// A field and what the output made of its value.
    Field { def: &'static FieldDef, data: T },
    /// A text item (`Timestamps`, `Queries`), generated (drawn in brackets) or not.
    Label { text: String, generated: bool },
    /// An expert note.
    Note(String),
}

/// One node and its children (indices into the arena).
pub struct Node<T> {
    pub item: Item<T>,
    pub children: Vec<usize>,
}

/// Where items go now.
#[derive(Clone, Default)]
struct Place {
    /// The node that receives new layers (`None`: the frame's top level).
    container: Option<usize>,
    /// The current layer node.
    layer: Option<usize>,
    /// Open subtrees: their parent nodes (`None` for a subtree opened with no parent item,
    /// whose items are dropped).
    stack: Vec<Option<usize>>,
    /// Whether the current layer was entered again (its top-level items merge in order).
    merging: bool,
}

/// One frame's tree.
pub struct Tree<T> {
    nodes: Vec<Node<T>>,
    roots: Vec<usize>,
    place: Place,
    nested: Vec<Place>,
    last: Option<usize>,
    /// Where [`Tree::mark`] was called: the container and its count of children then.
    mark: Option<(Option<usize>, usize)>,
}

impl<T> Default for Tree<T> {
    fn default() -> Self {
        Tree {
            nodes: Vec::new(),
            roots: Vec::new(),
            place: Place::default(),
            nested: Vec::new(),
            last: None,
            mark: None,
        }
    }
}

impl<T> Tree<T> {
    /// Forgets the previous frame.
    pub fn clear(&mut self) {
        self.nodes.clear();
        self.roots.clear();
        self.place = Place::default();
        self.nested.clear();
        self.last = None;
        self.mark = None;
    }

    /// Opens the subtree of the current layer's last `def` item (searched depth first); when
    /// there is none, what follows up to the matching close is dropped.
    pub fn reopen(&mut self, def: &'static FieldDef) {
        let found = self.place.layer.and_then(|l| self.last_field(l, def, 0));
        self.place.stack.push(found);
        self.last = None;
    }

    fn last_field(&self, node: usize, def: &'static FieldDef, depth: usize) -> Option<usize> {
        if depth > 16 {
            return None;
        }
        let n = self.nodes.get(node)?;
        n.children.iter().rev().find_map(|&c| {
            let hit = matches!(self.nodes.get(c), Some(Node { item: Item::Field { def: d, .. }, .. }) if std::ptr::eq(*d, def));
            if hit {
                Some(c)
            } else {
                self.last_field(c, def, depth + 1)
            }
        })
    }

    /// The item whose subtree is open (the parent of the items pushed now), if any.
    pub fn open_item_mut(&mut self) -> Option<&mut Item<T>> {
        let id = (*self.place.stack.last()?)?;
        self.nodes.get_mut(id).map(|n| &mut n.item)
    }

    /// Remembers where the next layer of the current container would go.
    pub fn mark(&mut self) {
        let len = match self.place.container {
            None => self.roots.len(),
            Some(c) => self.nodes.get(c).map_or(0, |n| n.children.len()),
        };
        self.mark = Some((self.place.container, len));
    }

    /// Enters a new layer of `proto` where [`Tree::mark`] was called (before the layers added
    /// since); at the end, as [`Tree::layer_apart`], without a mark in the same container.
    pub fn layer_at_mark(&mut self, proto: &'static Proto) {
        let Some((container, at)) = self.mark.take().filter(|(c, _)| *c == self.place.container)
        else {
            self.layer_apart(proto);
            return;
        };
        self.place.stack.clear();
        self.last = None;
        let id = self.new_layer_node(proto);
        let siblings = match container {
            None => &mut self.roots,
            Some(c) => match self.nodes.get_mut(c) {
                Some(n) => &mut n.children,
                None => return,
            },
        };
        siblings.insert(at.min(siblings.len()), id);
        self.place.layer = Some(id);
        self.place.merging = false;
    }

    /// The top-level layers, in order.
    pub fn roots(&self) -> &[usize] {
        &self.roots
    }

    /// A node of the arena.
    pub fn node(&self, id: usize) -> Option<&Node<T>> {
        self.nodes.get(id)
    }

    /// The current layer's node id.
    pub fn current_layer_id(&self) -> Option<usize> {
        self.place.layer
    }

    /// The current layer's node (to fill its root-line data).
    pub fn current_layer(&mut self) -> Option<&mut Node<T>> {
        let id = self.place.layer?;
        self.nodes.get_mut(id)
    }

    /// Enters `proto`'s layer: the one of that protocol already in the current container, or
    /// a new one at its end.
    pub fn layer(&mut self, proto: &'static Proto) {
        self.enter(proto, true);
    }

    /// Enters a new layer of `proto` at the end of the current container, even where one of
    /// that protocol is already there (one tree per HTTP/2 frame, as tshark draws them).
    pub fn layer_apart(&mut self, proto: &'static Proto) {
        self.enter(proto, false);
    }

    /// A new, empty layer node of `proto` (not yet placed anywhere); its id.
    fn new_layer_node(&mut self, proto: &'static Proto) -> usize {
        self.nodes.push(Node {
            item: Item::Layer {
                proto,
                appended: String::new(),
                title: None,
            },
            children: Vec::new(),
        });
        self.nodes.len() - 1
    }

    fn enter(&mut self, proto: &'static Proto, merge: bool) {
        self.place.stack.clear();
        self.last = None;
        let siblings = match self.place.container {
            None => &self.roots,
            Some(c) => match self.nodes.get(c) {
                Some(n) => &n.children,
                None => return,
            },
        };
        // The latest layer of the protocol (several may be apart); else, at the top, the
        // latest one drawn inside another layer (the flow engine's stream number for the
        // UDP or TCP header quoted in an ICMP error goes into that header).
        let is_proto = |id: &usize| matches!(self.nodes.get(*id), Some(Node { item: Item::Layer { proto: p, .. }, .. }) if std::ptr::eq(*p, proto));
        let found = siblings
            .iter()
            .copied()
            .rev()
            .filter(|_| merge)
            .find(is_proto)
            .or_else(|| {
                let top = merge && self.place.container.is_none();
                top.then(|| self.latest_nested(&self.roots, &is_proto))
                    .flatten()
            });
        if let Some(id) = found {
            self.place.layer = Some(id);
            self.place.merging = true;
            return;
        }
        let id = self.new_layer_node(proto);
        match self.place.container {
            None => self.roots.push(id),
            Some(c) => {
                if let Some(n) = self.nodes.get_mut(c) {
                    n.children.push(id);
                }
            }
        }
        self.place.layer = Some(id);
        self.place.merging = false;
    }

    /// The latest layer inside the layers `ids` (depth first, latest first) that `is_proto`.
    fn latest_nested(&self, ids: &[usize], is_proto: &impl Fn(&usize) -> bool) -> Option<usize> {
        ids.iter().rev().find_map(|id| {
            let children = &self.nodes.get(*id)?.children;
            let layers: Vec<usize> = children
                .iter()
                .copied()
                .filter(|c| {
                    matches!(
                        self.nodes.get(*c),
                        Some(Node {
                            item: Item::Layer { .. },
                            ..
                        })
                    )
                })
                .collect();
            layers
                .iter()
                .rev()
                .copied()
                .find(is_proto)
                .or_else(|| self.latest_nested(&layers, is_proto))
        })
    }

    /// Adds an item at the current position.
    pub fn push(&mut self, item: Item<T>) {
        let id = self.nodes.len();
        let key = match &item {
            Item::Field { def, .. } => Some(*def),
            _ => None,
        };
        self.nodes.push(Node {
            item,
            children: Vec::new(),
        });
        self.last = Some(id);
        let parent = match self.place.stack.last() {
            Some(None) => return, // inside a subtree without a parent
            Some(Some(p)) => *p,
            None => match self.place.layer {
                Some(l) => l,
                None => return,
            },
        };
        let at_top = self.place.stack.is_empty();
        let pos = match (at_top && self.place.merging, key) {
            (true, Some(def)) => self.merge_position(parent, def),
            _ => None,
        };
        if let Some(n) = self.nodes.get_mut(parent) {
            match pos {
                Some(p) if p <= n.children.len() => n.children.insert(p, id),
                _ => n.children.push(id),
            }
        }
    }

    /// Where a field entered late goes among `layer`'s items: before the first field declared
    /// after it.
    fn merge_position(&self, layer: usize, def: &'static FieldDef) -> Option<usize> {
        let node = self.nodes.get(layer)?;
        let Item::Layer { proto, .. } = node.item else {
            return None;
        };
        let order = |d: &FieldDef| proto.fields.iter().position(|f| std::ptr::eq(*f, d));
        let mine = order(def)?;
        node.children
            .iter()
            .position(|id| match self.nodes.get(*id) {
                Some(Node {
                    item: Item::Field { def: d, .. },
                    ..
                }) => order(d).is_some_and(|o| o > mine),
                // A layer drawn inside this one (ICMP's data, a quoted packet) follows its fields.
                Some(Node {
                    item: Item::Layer { .. },
                    ..
                }) => true,
                _ => false,
            })
    }

    /// The items that follow are children of the last item.
    pub fn open(&mut self) {
        let parent = self.last;
        self.place.stack.push(parent);
    }

    /// Ends the innermost subtree.
    pub fn close(&mut self) {
        self.last = self.place.stack.pop().flatten();
    }

    /// Layers entered from now on go inside the current position (the innermost open subtree,
    /// else the current layer).
    pub fn nest(&mut self) {
        let inner = self
            .place
            .stack
            .last()
            .copied()
            .flatten()
            .or(self.place.layer);
        self.nested.push(self.place.clone());
        self.place = Place {
            container: inner,
            ..Place::default()
        };
        self.last = None;
    }

    /// Back to where [`Tree::nest`] was called.
    pub fn unnest(&mut self) {
        if let Some(p) = self.nested.pop() {
            self.place = p;
        }
        self.last = None;
    }

    /// Appends to the current layer's root line.
    /// Replaces the current layer's root line.
    pub fn retitle(&mut self, text: &str) {
        if let Some(Node {
            item: Item::Layer { title, .. },
            ..
        }) = self.current_layer()
        {
            *title = Some(text.to_string());
        }
    }

    pub fn append(&mut self, text: &str) {
        if let Some(Node {
            item: Item::Layer { appended, .. },
            ..
        }) = self.current_layer()
        {
            appended.push_str(text);
        }
    }

    /// The current layer's protocol.
    pub fn current_proto(&self) -> Option<&'static Proto> {
        match self.nodes.get(self.place.layer?)?.item {
            Item::Layer { proto, .. } => Some(proto),
            _ => None,
        }
    }
}

/// Wireshark's longest item label, in bytes, and what it shows instead of a longer one.
const ITEM_LABEL_LENGTH: usize = 240;
const TRUNCATED: &str = " [truncated]";

/// Cuts a label (`text[start..]`) of [`ITEM_LABEL_LENGTH`] bytes or more as Wireshark does:
/// ` [truncated]` after the field's name (`name_end`; at the start for a text item), then as
/// much of the rest as fits in 238 bytes, ending at a character boundary.
pub fn truncate_label(text: &mut String, start: usize, name_end: usize) {
    if text.len() - start < ITEM_LABEL_LENGTH {
        return;
    }
    let limit = start + ITEM_LABEL_LENGTH - 2;
    let rest = text.split_off(name_end.max(start));
    text.push_str(TRUNCATED);
    for c in rest.chars() {
        if text.len() + c.len_utf8() > limit {
            break;
        }
        text.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netsniff_dissectors::Kind;

    static A: FieldDef = FieldDef::new("p.a", "A", Kind::Dec);
    static B: FieldDef = FieldDef::new("p.b", "B", Kind::Dec);
    static C: FieldDef = FieldDef::new("p.c", "C", Kind::Dec);
    static P: Proto = Proto {
        name: "p",
        long_name: "P",
        fields: &[&A, &B, &C],
        summary: &[],
    };

    fn names(t: &Tree<()>, id: usize) -> Vec<&'static str> {
        let Some(n) = t.node(id) else {
            return Vec::new();
        };
        n.children
            .iter()
            .filter_map(|c| match t.node(*c).map(|n| &n.item) {
                Some(Item::Field { def, .. }) => Some(def.name),
                Some(Item::Layer { proto, .. }) => Some(proto.name),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn reentered_layer_merges_in_declared_order() {
        let mut t = Tree::<()>::default();
        t.layer(&P);
        t.push(Item::Field { def: &A, data: () });
        t.push(Item::Field { def: &C, data: () });
        t.open();
        t.push(Item::Field { def: &A, data: () });
        t.close();
        t.layer(&P);
        t.push(Item::Field { def: &B, data: () });
        let root = t.roots()[0];
        assert_eq!(names(&t, root), ["p.a", "p.b", "p.c"]);
        // C's subtree stayed with C.
        let c = t.node(root).unwrap().children[2];
        assert_eq!(names(&t, c), ["p.a"]);
    }

    #[test]
    fn a_layer_only_drawn_inside_another_is_merged_into() {
        // The UDP header quoted in an ICMP error gets the flow engine's stream number.
        static Q: Proto = Proto {
            name: "q",
            long_name: "Q",
            fields: &[],
            summary: &[],
        };
        let mut t = Tree::<()>::default();
        t.layer(&Q);
        t.nest();
        t.layer(&P);
        t.push(Item::Field { def: &A, data: () });
        t.push(Item::Field { def: &C, data: () });
        t.unnest();
        t.layer(&P);
        t.push(Item::Field { def: &B, data: () });
        assert_eq!(t.roots().len(), 1);
        let quoted = t.node(t.roots()[0]).unwrap().children[0];
        assert_eq!(names(&t, quoted), ["p.a", "p.b", "p.c"]);
    }

    #[test]
    fn nested_layers_go_inside() {
        let mut t = Tree::<()>::default();
        t.layer(&P);
        t.push(Item::Field { def: &A, data: () });
        t.nest();
        t.layer(&P);
        t.push(Item::Field { def: &B, data: () });
        t.unnest();
        t.push(Item::Field { def: &C, data: () });
        assert_eq!(t.roots().len(), 1);
        let root = t.roots()[0];
        assert_eq!(names(&t, root), ["p.a", "p", "p.c"]);
    }
}
