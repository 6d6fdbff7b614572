#!/usr/bin/env python3
"""Write the demo city's schematic base map (assets/geo/base/*.geojson).

No river, road or rail data for 镇江 under a public-domain or permissive licence turned up
in the package registries this project can reach (PyPI, npm, crates.io, Debian: searched
for Natural Earth, OpenStreetMap extracts, China GIS packages). So the layers are drawn
from the city's outline (assets/geo/zhenjiang_outline.geojson, from echarts 4.9.0,
Apache-2.0) and the schematic districts' centres: the Yangtze along the outline's
northern edge and around 扬中, the 夹江 behind 扬中, the Grand Canal through 丹阳, main
roads between the district seats, one expressway and one railway west to east. Every
feature is marked schematic (示意); the wall says so beside the map.

Run from the repository root: python3 tools/gen_base_map.py
"""
import json
import math
import os

OUT = "assets/geo/base"


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def north_edge(ring, lo, hi, step=0.025):
    """The outline's northernmost latitude in each band of longitude from lo to hi."""
    pts = []
    x = lo
    while x <= hi + 1e-9:
        ys = [p[1] for p in ring if abs(p[0] - x) <= step]
        if ys:
            pts.append([round(x, 4), max(ys)])
        x += step
    return pts


def band(line, width_deg):
    """A polygon of about `width_deg` across around a centre line."""
    left, right = [], []
    for i, (x, y) in enumerate(line):
        a = line[max(i - 1, 0)]
        b = line[min(i + 1, len(line) - 1)]
        dx, dy = b[0] - a[0], b[1] - a[1]
        n = math.hypot(dx, dy) or 1.0
        nx, ny = -dy / n, dx / n
        h = width_deg / 2
        left.append([round(x + nx * h, 5), round(y + ny * h, 5)])
        right.append([round(x - nx * h, 5), round(y - ny * h, 5)])
    ring = left + right[::-1] + [left[0]]
    return ring


def centre(geom):
    pts = []
    polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
    for poly in polys:
        pts.extend(poly[0])
    return [sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)]


def feature(geom, **props):
    props.setdefault("schematic", True)
    return {"type": "Feature", "properties": props, "geometry": geom}


def write(name, features):
    path = os.path.join(OUT, name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"type": "FeatureCollection", "features": features}, f, ensure_ascii=False)
        f.write("\n")
    print(f"{path}: {len(features)} features")


def main():
    os.makedirs(OUT, exist_ok=True)
    outline = load("assets/geo/zhenjiang_outline.geojson")["features"][0]["geometry"]
    ring = outline["coordinates"][0]
    seats = {
        f["properties"]["name"]: centre(f["geometry"])
        for f in load("assets/city/districts.geojson")["features"]
    }
    # The Yangtze: 2 km north of the outline's northern edge, west to east, then down
    # the eastern side towards 江阴.
    edge = north_edge(ring, 118.98, 119.86)
    river = [[x, y + 0.022] for x, y in edge]
    river += [[119.93, 32.27], [119.99, 32.16], [120.03, 32.05], [120.06, 31.95]]
    river = [[round(x, 4), round(y, 4)] for x, y in river]
    yangtze = band(river, 0.028)
    # 夹江: the narrow channel behind 扬中, from the main stream round its west and south.
    yz = seats.get("扬中市", [119.8, 32.2])
    jiajiang = [[119.66, 32.29], [119.665, 32.2], [yz[0] - 0.1, yz[1] - 0.13],
                [yz[0] + 0.05, yz[1] - 0.16], [120.02, 32.06]]
    jiajiang = [[round(x, 4), round(y, 4)] for x, y in jiajiang]
    write("water.geojson", [
        feature({"type": "Polygon", "coordinates": [yangtze]}, id="yangtze", name="长江"),
        feature({"type": "Polygon", "coordinates": [band(jiajiang, 0.008)]},
                id="jiajiang", name="夹江"),
    ])
    jk = seats.get("京口区", [119.43, 31.98])
    dy = seats.get("丹阳市", [119.68, 31.93])
    canal = [[jk[0], river[len(river) // 2][1] - 0.02], [jk[0] + 0.02, jk[1]],
             [dy[0] - 0.05, dy[1] + 0.04], [dy[0], dy[1]], [dy[0] + 0.12, 31.76]]
    write("rivers.geojson", [
        feature({"type": "LineString", "coordinates": [[round(x, 4), round(y, 4)] for x, y in canal]},
                id="grand-canal", name="京杭大运河"),
    ])
    roads = []
    for a, b, name in [
        ("润州区", "京口区", "城市主干道"),
        ("京口区", "丹徒区", "城市主干道"),
        ("丹徒区", "丹阳市", "312国道"),
        ("丹阳市", "扬中市", "扬中大桥连接线"),
        ("句容市", "润州区", "243省道"),
        ("句容市", "丹阳市", "340省道"),
    ]:
        if a in seats and b in seats:
            roads.append(feature({"type": "LineString", "coordinates": [
                [round(c, 4) for c in seats[a]], [round(c, 4) for c in seats[b]]]},
                id=f"road-{a}-{b}", name=name, kind="road"))
    west, east = [119.0, 31.98], [119.97, 31.86]
    expressway = [west, [round(seats.get("句容市", west)[0] + 0.08, 4), 32.0],
                  [round(seats.get("丹徒区", west)[0], 4), 32.0],
                  [round(seats.get("丹阳市", east)[0], 4), round(seats.get("丹阳市", east)[1] - 0.03, 4)],
                  east]
    roads.append(feature({"type": "LineString", "coordinates": expressway},
                         id="g42", name="沪宁高速", kind="expressway"))
    write("roads.geojson", roads)
    rail = [[119.0, 32.06], [jk[0] - 0.02, jk[1] + 0.05], [dy[0] - 0.02, dy[1] + 0.02], [119.97, 31.83]]
    write("rail.geojson", [feature({"type": "LineString", "coordinates": [
        [round(x, 4), round(y, 4)] for x, y in rail]}, id="huning", name="沪宁城际铁路")])
    places = [feature({"type": "Point", "coordinates": [round(x, 4), round(y, 4)]}, id=i, name=n)
              for i, n, (x, y) in [
                  ("p-yangtze", "长江", river[len(river) // 3]),
                  ("p-jiajiang", "夹江", jiajiang[2]),
                  ("p-zhenjiang-station", "镇江站", rail[1]),
                  ("p-danyang-station", "丹阳站", rail[2]),
              ]]
    write("places.geojson", places)


if __name__ == "__main__":
    main()
