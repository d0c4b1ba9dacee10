"""The pytest plugin as a user sees it: fresh test files run by pytester, no conftest."""

import json
import sys

import pytest
import requests  # noqa: F401  (imported here so in-process runs share one copy)

try:  # the same for openstacksdk, which in-process runs import
    import openstack  # noqa: F401
except ImportError:  # pragma: no cover
    pass

from fakeecs import FakeCloud

pytest_plugins = ["pytester"]

#: the plugin comes from the ``pytest11`` entry point of the installed package; these
#: arguments keep the inner runs quiet and independent of the outer run's options
ARGS = ("-p", "no:cacheprovider", "-p", "no:randomly", "-W", "ignore::DeprecationWarning")


def run(pytester, *args):
    return pytester.runpytest_inprocess(*ARGS, *args)


def test_the_plugin_is_loaded_by_the_entry_point(pytester):
    result = run(pytester, "--help")
    result.stdout.fnmatch_lines(["*--fakeecs-scenario*", "*--fakeecs-url*"])


def test_fixtures_and_marker_in_a_fresh_test_file(pytester):
    pytester.makepyfile(
        test_user="""
        import pytest

        def test_handle_and_client(fakeecs, fakeecs_client):
            server = fakeecs.create_server("web")
            body = fakeecs_client.get_server(server.id).json()["server"]
            assert body["status"] == "ACTIVE"
            assert fakeecs.url.startswith("http://127.0.0.1:")

        def test_openstack(fakeecs_openstack, fakeecs):
            conn = fakeecs_openstack
            server = conn.compute.create_server(
                name="web", image_id=fakeecs.base_image_id, flavor_id="s6.small.1",
                networks="auto")
            server = conn.compute.wait_for_server(server)   # virtual sleep: no wall time
            image = conn.compute.create_server_image(server, "web-image", wait=True)
            assert image.status == "active"

        @pytest.mark.fakeecs(scenario={"availability_zones": ["cn-north-4z"]},
                             transitions={"image_snapshot": "manual"}, seed=5)
        def test_marker(fakeecs):
            assert "cn-north-4z" in fakeecs.cloud.availability_zones
            assert "cn-north-4a" in fakeecs.cloud.availability_zones  # added to the default
            assert fakeecs.transitions()["image_snapshot"] == "manual"

        @pytest.mark.fakeecs(scenario={"availability_zones": ["solo-1a"],
                                       "domains": [{"name": "Default"}],
                                       "projects": [{"name": "fakeecs"}],
                                       "users": [{"name": "fakeecs",
                                                  "roles": {"fakeecs": ["admin"]}}]},
                             replace=True)
        def test_marker_replace(fakeecs):
            assert list(fakeecs.cloud.availability_zones) == ["solo-1a"]

        @pytest.mark.fakeecs(clock="realtime")
        def test_marker_clock(fakeecs):
            assert fakeecs.clock.mode == "realtime"

        def test_clock_is_frozen_again(fakeecs):
            assert fakeecs.clock.mode == "frozen"
            assert "cn-north-4z" not in fakeecs.cloud.availability_zones
    """
    )
    result = run(pytester, "-v")
    result.assert_outcomes(passed=6)


def test_isolation_between_tests(pytester):
    pytester.makepyfile(
        test_iso="""
        import pytest

        SEEN = {}

        @pytest.mark.parametrize("round", [1, 2, 3])
        def test_each_test_starts_clean(fakeecs, fakeecs_client, round):
            assert fakeecs_client.list_servers() == []
            assert fakeecs.requests()[:1] and all(
                e["path"].startswith(("/v3", "/v2.1")) for e in fakeecs.requests())
            assert fakeecs.faults() == []
            server = fakeecs.create_server("leak?")
            fakeecs.add_fault(match={"method": "GET"}, status=500)
            fakeecs.clock.advance(1000)
            fakeecs.set_transition("server_build", "manual")
            SEEN.setdefault("ids", set()).add(server.id)
            SEEN.setdefault("servers", []).append(id(fakeecs.http_server))

        def test_same_server_same_ids():
            assert len(SEEN["ids"]) == 1          # seeded: ids repeat from test to test
            assert len(set(SEEN["servers"])) == 1  # one server for the session
    """
    )
    result = run(pytester)
    result.assert_outcomes(passed=4)


def test_a_failing_test_shows_the_request_journal(pytester):
    pytester.makepyfile(
        test_fail="""
        def test_passes(fakeecs_client):
            fakeecs_client.compute("GET", "/flavors")

        def test_fails(fakeecs_client):
            server = fakeecs_client.create_server("web", "5f1b4c2e-8a3d-4e6f-9b7a-0c1d2e3f4a01",
                                                 "s6.small.1")
            fakeecs_client.compute("GET", "/servers/does-not-exist")
            assert server.status_code == 201
    """
    )
    result = run(pytester)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_fails _*",
            "*- fakeecs request journal -*",
            "#* POST /v3/auth/tokens -> 201*",
            "#* POST /v2.1/*/servers -> 202*",
            "#* GET /v2.1/*/servers/does-not-exist -> 404*",
            "*could not be found*",
        ]
    )
    # only the failing test gets the section, and it lists only that test's requests
    assert result.stdout.str().count("fakeecs request journal") == 1
    assert "/flavors" not in result.stdout.str().split("fakeecs request journal")[1]


def test_ini_and_command_line_scenario(pytester):
    pytester.makefile(".yaml", extra="availability_zones: [cn-north-4q]\n")
    pytester.makeini("""
        [pytest]
        fakeecs_scenario =
            default
            extra.yaml
        fakeecs_seed = 42
    """)
    pytester.makepyfile(
        test_ini="""
        def test_world(fakeecs):
            assert "cn-north-4q" in fakeecs.cloud.availability_zones
            assert fakeecs.cloud.ids.seed == 42
    """
    )
    run(pytester).assert_outcomes(passed=1)
    pytester.makefile(".yaml", other="availability_zones: [cn-north-4w]\n")
    pytester.makepyfile(
        test_ini="""
        def test_world(fakeecs):
            assert "cn-north-4w" in fakeecs.cloud.availability_zones
            assert "cn-north-4q" not in fakeecs.cloud.availability_zones
    """
    )
    run(
        pytester,
        "--fakeecs-scenario",
        "default",
        "--fakeecs-scenario",
        "other.yaml",
        "--fakeecs-clock",
        "frozen",
    ).assert_outcomes(passed=1)


def test_virtual_sleep_can_be_turned_off(pytester):
    pytester.makepyfile(
        test_sleep="""
        import time, pytest

        def test_sleep_is_virtual(fakeecs):
            before = fakeecs.clock.now()
            time.sleep(3600)
            assert fakeecs.clock.now() - before == 3600

        @pytest.mark.fakeecs(virtual_sleep=False)
        def test_sleep_is_real(fakeecs):
            before = fakeecs.clock.now()
            time.sleep(0.01)
            assert fakeecs.clock.now() == before
    """
    )
    run(pytester).assert_outcomes(passed=2)


def test_fakeecs_openstack_skips_cleanly_without_openstacksdk(pytester):
    pytester.makeconftest("""
        import sys
        sys.modules["openstack"] = None   # as if openstacksdk were not installed
    """)
    pytester.makepyfile(
        test_skip="""
        def test_needs_sdk(fakeecs_openstack):
            raise AssertionError("must not run")

        def test_does_not(fakeecs):
            assert fakeecs.url
    """
    )
    result = run(pytester, "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*openstacksdk is not installed*"])


def test_bad_marker_arguments_are_usage_errors(pytester):
    pytester.makepyfile(
        test_bad="""
        import pytest

        @pytest.mark.fakeecs(scenery="default")
        def test_typo(fakeecs):
            pass
    """
    )
    result = run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown pytest.mark.fakeecs argument(s) scenery*"])


def test_against_an_already_running_fakeecs(pytester):
    with FakeCloud.start(seed=3) as running:
        running.load_scenario({"availability_zones": ["remote-1a"]})
        running.cloud.mark_baseline()
        pytester.makepyfile(
            test_remote=f"""
            def test_uses_the_remote(fakeecs, fakeecs_client):
                assert fakeecs.url == {running.url!r}
                assert fakeecs.has_control_plane
                zones = fakeecs_client.compute("GET", "/os-availability-zone").json()
                assert "remote-1a" in [z["zoneName"] for z in zones["availabilityZoneInfo"]]
                fakeecs.create_server("from-the-test") if hasattr(fakeecs, "cloud") else None
                fakeecs_client.create_server("x", "5f1b4c2e-8a3d-4e6f-9b7a-0c1d2e3f4a01",
                                             "s6.small.1")

            def test_reset_between_tests(fakeecs_client):
                assert fakeecs_client.list_servers() == []
        """
        )
        run(pytester, f"--fakeecs-url={running.url}").assert_outcomes(passed=2)


def test_against_an_endpoint_without_control_plane_runs_only_readonly_tests(pytester):
    with FakeCloud.start(seed=3) as running:
        running.app.config["FAKEECS_CONTROL"]["enabled"] = False
        pytester.makepyfile(
            test_smoke="""
            import pytest

            @pytest.mark.fakeecs(readonly=True)
            def test_smoke(fakeecs_client):
                assert fakeecs_client.compute("GET", "/flavors").status_code == 200

            @pytest.mark.fakeecs(readonly=True)
            def test_smoke_sdk(fakeecs_openstack):
                assert list(fakeecs_openstack.compute.flavors())

            def test_mutating(fakeecs):
                raise AssertionError("must be skipped")

            @pytest.mark.fakeecs(readonly=True, scenario="default")
            def test_needs_control(fakeecs):
                raise AssertionError("must be skipped")
        """
        )
        result = run(pytester, f"--fakeecs-url={running.url}", "-rs")
        result.assert_outcomes(passed=2, skipped=2)
        result.stdout.fnmatch_lines(
            ["*is not a fakeecs*readonly=True*", "*needs a fakeecs control plane*"]
        )


def test_under_xdist_each_worker_has_its_own_server(pytester):
    pytest.importorskip("xdist")
    out = pytester.path / "ports"
    out.mkdir()
    pytester.makepyfile(
        test_xdist=f"""
        import json, os, pytest

        @pytest.mark.parametrize("n", range(8))
        def test_worker(fakeecs, fakeecs_client, n):
            assert fakeecs_client.list_servers() == []
            fakeecs.create_server("s")
            path = os.path.join({str(out)!r}, f"{{os.environ['PYTEST_XDIST_WORKER']}}-{{n}}")
            with open(path, "w") as handle:
                json.dump({{"port": fakeecs.port, "pid": os.getpid()}}, handle)
    """
    )
    result = pytester.runpytest_subprocess(*ARGS, "-n", "2")
    result.assert_outcomes(passed=8)
    records = [json.loads(p.read_text()) for p in out.iterdir()]
    by_pid = {}
    for record in records:
        by_pid.setdefault(record["pid"], set()).add(record["port"])
    assert len(by_pid) == 2, by_pid  # two workers ran tests
    assert all(len(ports) == 1 for ports in by_pid.values())  # one server per worker
    assert len({p for ports in by_pid.values() for p in ports}) == 2  # on different ports


def test_report_header(pytester):
    pytester.makepyfile(test_h="def test_ok(): pass")
    result = run(pytester)
    result.stdout.fnmatch_lines(["fakeecs: in-process server per test process*clock: frozen*"])


@pytest.mark.skipif(sys.platform == "win32", reason="posix paths")
def test_relative_marker_scenario_path(pytester):
    pytester.mkdir("worlds")
    pytester.path.joinpath("worlds", "az.yaml").write_text("availability_zones: [rel-1a]\n")
    pytester.makepyfile(
        test_rel="""
        import pytest

        @pytest.mark.fakeecs(scenario="worlds/az.yaml")
        def test_rel(fakeecs):
            assert "rel-1a" in fakeecs.cloud.availability_zones
    """
    )
    run(pytester).assert_outcomes(passed=1)


def test_the_journal_section_says_what_the_bounded_journal_dropped(pytester):
    """Entries carry their fault and project, and a full journal says how much it dropped."""
    pytester.makepyfile(
        test_fail="""
        def test_fails(fakeecs, fakeecs_client):
            fakeecs.cloud.journal.resize(3)
            fakeecs.add_fault(match={"method": "GET", "path": "/v2.1/*/flavors"}, status=503)
            for _ in range(5):
                fakeecs_client.compute("GET", "/flavors")
            assert False
    """
    )
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- fakeecs request journal -*",
            "(3 older entries were dropped from the bounded journal)",
            "#* GET /v2.1/*/flavors -> 503  (fault fault-*, project *, * ms)",
        ]
    )
