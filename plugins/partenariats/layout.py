"""Where things go in the server-rendered SVG drawings: computed here, by hand, deterministically.

The partner map follows the seed 002 « carte mentale »: the structure in the centre, its
internal partners and funders above, field actors and prescribers below. The network is a
circle of every structure, in name order, so that the same data always draws the same picture.
Templates only place what these functions computed; the same objects fill the tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from plugins.partenariats.service import ROLES, MapEntry, Network, Node, PartnerMap

ROW = 22
HEAD = 30
SIDE_W = 330
CENTRE_W = 240
GAP = 45
WIDTH = 2 * SIDE_W + CENTRE_W + 2 * GAP + 20
QUADRANT_FILL = {"interne": "#eef2ff", "financeur": "#fff7e6", "terrain": "#ecfdf3", "prescripteur": "#fdf2f8"}
KIND_COLOURS = {
    "convention": "#1d4ed8",
    "financement": "#b45309",
    "prescription": "#7c3aed",
    "relais": "#047857",
    "reseau": "#4b5563",
}


def short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Placed:
    entry: MapEntry
    x: float  # the dot
    y: float
    text_x: float
    anchor: str
    label: str


@dataclass(frozen=True)
class Box:
    role: str
    title: str
    x: float
    y: float
    w: float
    h: float
    fill: str
    items: list[Placed]


@dataclass(frozen=True)
class MapDrawing:
    width: float
    height: float
    centre_x: float
    centre_y: float
    centre_label: str
    boxes: list[Box]


def partner_map(m: PartnerMap) -> MapDrawing:
    left_x, right_x = 10.0, 10.0 + SIDE_W + GAP + CENTRE_W + GAP
    centre_x = 10 + SIDE_W + GAP + CENTRE_W / 2
    top_rows = max(len(m.quadrants["interne"]), len(m.quadrants["financeur"]), 1)
    bottom_rows = max(len(m.quadrants["terrain"]), len(m.quadrants["prescripteur"]), 1)
    top_h = HEAD + top_rows * ROW + 10
    bottom_h = HEAD + bottom_rows * ROW + 10
    top_y = 10.0
    centre_y = top_y + top_h + 40
    bottom_y = centre_y + 40
    boxes = []
    for role, x, y, h in (
        ("interne", left_x, top_y, top_h),
        ("financeur", right_x, top_y, top_h),
        ("terrain", left_x, bottom_y, bottom_h),
        ("prescripteur", right_x, bottom_y, bottom_h),
    ):
        left = x == left_x
        dot_x = x + SIDE_W - 14 if left else x + 14
        items = [
            Placed(
                e,
                dot_x,
                y + HEAD + i * ROW + ROW / 2,
                dot_x - 10 if left else dot_x + 10,
                "end" if left else "start",
                short(e.name, 42),
            )
            for i, e in enumerate(m.quadrants[role])
        ]
        boxes.append(Box(role, ROLES[role], x, y, SIDE_W, h, QUADRANT_FILL[role], items))
    return MapDrawing(WIDTH, bottom_y + bottom_h + 10, centre_x, centre_y, short(m.name, 34), boxes)


@dataclass(frozen=True)
class NodeAt:
    node: Node
    x: float
    y: float
    text_x: float
    anchor: str
    label: str


@dataclass(frozen=True)
class EdgeAt:
    a: str
    b: str
    x1: float
    y1: float
    x2: float
    y2: float
    colour: str
    title: str


@dataclass(frozen=True)
class NetworkDrawing:
    width: float
    height: float
    nodes: list[NodeAt]
    edges: list[EdgeAt]
    legend: list[tuple[str, str, str]]  # kind, label, colour
    legend_y: float


def network(net: Network, kind_labels: dict[str, str]) -> NetworkDrawing:
    n = max(len(net.nodes), 1)
    radius = max(180.0, n * 16 / math.pi)
    margin_x, margin_y = 250.0, 50.0
    cx, cy = margin_x + radius, margin_y + radius
    placed: dict[str, NodeAt] = {}
    for i, node in enumerate(net.nodes):
        angle = -math.pi / 2 + 2 * math.pi * i / n
        x, y = cx + radius * math.cos(angle), cy + radius * math.sin(angle)
        right = math.cos(angle) >= -1e-9
        label = node.acronym if node.acronym and len(node.name) > 30 else short(node.name, 30)
        placed[node.id] = NodeAt(node, round(x, 1), round(y, 1), round(x + (12 if right else -12), 1), "start" if right else "end", label)
    edges = []
    for e in net.edges:
        a, b = placed[e.a], placed[e.b]
        titles = "; ".join(p.title for p in e.partnerships)
        edges.append(EdgeAt(e.a, e.b, a.x, a.y, b.x, b.y, KIND_COLOURS[e.kinds[0]], f"{a.node.name} – {b.node.name} : {titles}"))
    legend = [(k, kind_labels[k], c) for k, c in KIND_COLOURS.items() if net.kind in (None, k)]
    legend_y = 2 * (margin_y + radius)
    return NetworkDrawing(2 * (margin_x + radius), legend_y + 24 * len(legend) + 10, list(placed.values()), edges, legend, legend_y)
