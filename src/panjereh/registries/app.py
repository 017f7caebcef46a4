"""One ASGI app hosting every simulated registry, each a sub-app with its own OpenAPI document."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, FastAPI

from panjereh.core.publications import RegistryRecord
from panjereh.core.requests import RequestIdMiddleware
from panjereh.registries import legacy_systems
from panjereh.registries.apis import (
    agency_files,
    civil_registry,
    companies,
    inquiries,
    ipg,
    post,
    shahkar,
    sms_gateway,
)
from panjereh.registries.events import EventFeed
from panjereh.registries.faults import FaultBoard, FaultMiddleware, FaultSpec
from panjereh.registries.http import Context, RegistryError, bearer_guard, install_problem_handlers
from panjereh.registries.population import DEFAULT_SEED, DEFAULT_SIZE, get_population
from panjereh.registries.problems import problem
from panjereh.registries.schemas import Health
from panjereh.registries.services import load_services

DEFAULT_TOKEN = "dev-registry-token"  # noqa: S105 — the development placeholder the platform refuses in production

RouterFactory = Callable[[Context], APIRouter]
ROUTERS: dict[str, list[RouterFactory]] = {
    "civil-registry": [civil_registry.router, civil_registry.admin_router],
    "shahkar": [shahkar.router],
    "post": [post.router],
    "companies": [companies.router],
    **{code: [factory] for code, factory in inquiries.ROUTERS.items()},
}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _tsa_app(seed: int, clock: Callable[[], datetime]) -> Any:
    # Imported when first asked: its X.509 and ASN.1 modules would add a second to every start-up.
    from panjereh.registries import tsa

    return tsa.create_app(seed, clock)


class _LazyApp:
    """An ASGI app built on its first request (mounted sub-apps get no lifespan events)."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self.factory = factory
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.app is None:
            self.app = self.factory()
        await self.app(scope, receive, send)


def agency_files_app(entries: list[RegistryRecord], ctx: Context) -> FastAPI:
    """The agencies' own files (`apis/agency_files.py`): one sub-app, one OpenAPI document, for all."""
    app = FastAPI(
        title="Agencies' own files (simulated) — پروندهٔ اشخاص نزد دستگاه‌ها",
        description="The generic data service of each agency without a registry of its own (demos, tests).",
        version="1",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    install_problem_handlers(app)

    @app.get("/healthz", response_model=Health, tags=["operations"], summary="Liveness")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "registry": "agency-files"}

    app.include_router(agency_files.router(ctx, [entry.agency_code for entry in entries]))
    # Faults are switched per registry code; the shared app answers to the first agency's switch.
    app.add_middleware(FaultMiddleware, board=ctx.faults, registry=entries[0].code)
    return app


def registry_app(entry: RegistryRecord, ctx: Context) -> FastAPI:
    """The sub-app of one registry: health check, OpenAPI document, data routes, faults."""
    app = FastAPI(
        title=f"{entry.name_en} (simulated) — {entry.name_fa}",
        description=f"Simulated registry of {entry.agency_en} ({entry.agency_fa}), for demos and tests.",
        version="1",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    install_problem_handlers(app)

    @app.get("/healthz", response_model=Health, tags=["operations"], summary="Liveness")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "registry": entry.code}

    for factory in ROUTERS[entry.code]:
        app.include_router(factory(ctx))
    app.add_middleware(FaultMiddleware, board=ctx.faults, registry=entry.code)
    return app


def _admin_router(ctx: Context) -> APIRouter:
    api = APIRouter(prefix="/_admin", dependencies=[Depends(bearer_guard(ctx.admin_token))], tags=["admin"])

    @api.get("/faults", summary="Faults of every registry")
    def list_faults() -> dict[str, Any]:
        return ctx.faults.snapshot()

    @api.put("/faults/{registry}", summary="Switch faults on for one registry")
    def set_fault(registry: str, spec: FaultSpec) -> dict[str, Any]:
        if registry not in ctx.faults.registries:
            raise RegistryError(404, "registry_not_found", "Registry not found", f"No registry {registry!r}.")
        ctx.faults.set(registry, spec)
        return ctx.faults.snapshot()[registry]

    @api.delete("/faults", summary="Switch every fault off")
    def reset_faults() -> dict[str, Any]:
        ctx.faults.reset()
        return ctx.faults.snapshot()

    return api


def _root_router(ctx: Context, catalog: tuple[RegistryRecord, ...]) -> APIRouter:
    api = APIRouter(tags=["operations"])

    @api.get("/healthz", tags=["operations"], summary="Health of every registry")
    def healthz() -> Any:
        down = [code for code in ctx.faults.registries if ctx.faults.get(code).down]
        if down:
            return problem(
                503, "registries_down", "Some registries are down", f"Down: {', '.join(down)}", down=down
            )
        return {"status": "ok", "down": [], "people": len(ctx.population)}

    @api.get("/", tags=["operations"], summary="The registries hosted here")
    def index() -> dict[str, Any]:
        return {
            "registries": [
                {
                    "code": r.code,
                    "prefix": r.prefix,
                    "name": {"fa": r.name_fa, "en": r.name_en},
                    "openapi": f"{r.prefix}/openapi.json",
                }
                for r in catalog
            ]
        }

    return api


def create_app(
    seed: int = DEFAULT_SEED,
    size: int = DEFAULT_SIZE,
    token: str = DEFAULT_TOKEN,
    admin_token: str | None = None,
    clock: Callable[[], datetime] = _utc_now,
) -> FastAPI:
    """Every registry of ``services.yaml`` mounted under its prefix, plus ``/_admin`` and an index."""
    population = get_population(seed, size)
    catalog = load_services()
    ctx = Context(
        population=population,
        token=token,
        admin_token=admin_token or token,
        faults=FaultBoard([*(r.code for r in catalog), ipg.CODE, sms_gateway.CODE]),
        events=EventFeed(population, clock),
        clock=clock,
    )
    root = FastAPI(title="Panjereh simulated registries", version="1", docs_url=None, redoc_url=None)
    install_problem_handlers(root)
    root.state.context = ctx
    root.include_router(_admin_router(ctx))

    root.include_router(_root_router(ctx, catalog))
    files = [entry for entry in catalog if entry.prefix == agency_files.PREFIX]
    for entry in catalog:
        if entry.prefix != agency_files.PREFIX:
            root.mount(entry.prefix, registry_app(entry, ctx))
    if files:
        root.mount(agency_files.PREFIX, agency_files_app(files, ctx))
    root.mount("/legacy", legacy_systems.create_app(token))  # subsidiaries' own systems (connection standard)
    root.mount("/agencies", legacy_systems.AgencySystems(token))  # a generic tested system per agency
    root.mount("/tsa", _LazyApp(lambda: _tsa_app(seed, clock)))  # a time-stamping authority (RFC 3161)
    gateway = ipg.create_app(ctx)  # the internet payment gateway (payments), with its own fault switch
    gateway.add_middleware(FaultMiddleware, board=ctx.faults, registry=ipg.CODE)
    root.mount("/ipg", gateway)
    root.mount(sms_gateway.PREFIX, sms_gateway.create_app(ctx))  # an SMS gateway speaking Kavenegar's API
    # An agency's system continues the platform's trace: its log lines carry the caller's trace id.
    root.add_middleware(RequestIdMiddleware)
    return root
