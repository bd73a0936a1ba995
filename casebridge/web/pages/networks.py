"""The network pages: the networks in scope, and one network as a link chart (Cytoscape.js),
its members with their roles and centrality, its ties, a timeline of the events behind them,
and its exports for the roles that may export.

The chart's data reaches the browser as a JSON data block (``<script
type="application/json">``), which no browser runs: the page's own script
(``static/network.js``) reads it and draws the chart, so the CSP's ``script-src 'self'`` holds.
The members and ties tables say everything the chart shows, for keyboard and screen-reader
users and for browsers without scripts.

As every page, each declares its permission and reads through
:class:`~casebridge.web.access.Access` (scope: members outside it are withheld; break glass;
the trail).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from casebridge.web.access import Access as DataAccess
from casebridge.web.pages.casework import Access, ReasonField, with_reason
from casebridge.web.pages.render import Pages, path_of
from casebridge.web.permissions import Permission, Requires
from casebridge.web.services.schemas import NetworkDetail

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
EXPORTS = (("graphml", "GraphML"), ("gexf", "GEXF (Gephi)"), ("i2", "i2 Analyst's Notebook (zip)"))


def _pages(request: Request) -> Pages:
    pages: Pages = request.app.state.pages
    return pages


def chart_data(detail: NetworkDetail) -> dict[str, Any]:
    """The chart's elements as Cytoscape.js takes them: a node per member (a link to the person
    where the caller may open them) and an edge per tie, weighted by its events shown."""
    nodes = {
        m.person_id: {
            "id": m.person_id,
            "role": m.role,
            "centrality": m.centrality or 0.0,
            "href": path_of("persons", m.person_id) if m.visible else None,
        }
        for m in detail.members
    }
    edges = []
    for number, edge in enumerate(detail.edges):
        for end in (edge.person_a, edge.person_b):
            nodes.setdefault(end, {"id": end, "role": "", "centrality": 0.0, "href": None})
        edges.append(
            {
                "id": f"tie-{number}",
                "source": edge.person_a,
                "target": edge.person_b,
                "kind": edge.kind,
                "events": len(edge.events),
            }
        )
    return {
        "nodes": [{"data": node} for node in nodes.values()],
        "edges": [{"data": edge} for edge in edges],
    }


@router.get("/networks", dependencies=[Depends(Requires(Permission.READ_CASEWORK))])
def list_networks(
    request: Request, access: Access, page: Annotated[int, Query(ge=1, le=1_000_000)] = 1
) -> Response:
    """The networks in scope, most suspects first, a page at a time."""
    found = access.networks(page, PAGE_SIZE)
    last_page = max(1, -(-found.total // PAGE_SIZE))
    return _pages(request).render(request, "networks.html", {"page": found, "last_page": last_page})


def network_page(request: Request, access: DataAccess, network_id: str) -> Response:
    detail = access.network(network_id)
    exports = EXPORTS if access.can(Permission.EXPORT_NETWORKS) else ()
    return _pages(request).render(
        request,
        "network.html",
        {"detail": detail, "chart": chart_data(detail), "exports": exports},
    )


@router.get("/networks/{network_id}", dependencies=[Depends(Requires(Permission.READ_CASEWORK))])
def read_network(request: Request, network_id: str, access: Access) -> Response:
    """A network: link chart, members with roles and centrality, ties, timeline, exports."""
    return network_page(request, access, network_id)


@router.post("/networks/{network_id}", dependencies=[Depends(Requires(Permission.READ_CASEWORK))])
def open_network_with_reason(
    request: Request, network_id: str, access: Access, access_reason: ReasonField
) -> Response:
    """The network, opened with a stated reason (break glass: the read is flagged)."""
    with_reason(access, access_reason)
    return network_page(request, access, network_id)
