"""Registration, keepalive windows and catalogues in parts, on a virtual clock."""

from __future__ import annotations

from vision.gb28181.devices import Devices, KeepalivePolicy, WentOffline
from vision.gb28181.manscdp import CatalogItem, CatalogResponse

D = "23110200001180000001"
A = ("127.0.0.1", 5070)


def test_missed_window_goes_offline_once_and_a_keepalive_keeps_it() -> None:
    devices = Devices(KeepalivePolicy(interval_s=60, missed=3))
    assert devices.register(D, A, "udp", 3600, now=0)
    assert not devices.register(D, A, "udp", 3600, now=10)  # a refresh is not a new registration
    assert devices.sweep(now=180) == []
    assert devices.seen(D, A, now=170)
    assert devices.sweep(now=350) == []
    assert devices.sweep(now=351) == [WentOffline(D, "keepalive", ())]
    assert devices.sweep(now=400) == []
    assert not devices.seen(D, A, now=401)
    assert devices.register(D, A, "udp", 100, now=402)
    assert devices.sweep(now=503) == [WentOffline(D, "expired", ())]


def test_catalogue_completes_when_every_announced_item_arrived() -> None:
    devices = Devices(KeepalivePolicy())
    devices.register(D, A, "udp", 3600, now=0)
    items = [CatalogItem(f"231102000013200000{i:02d}", f"c{i}", "231102") for i in range(30)]
    assert devices.catalogue(CatalogResponse(D, 1, 30, tuple(items[:20]))) is None
    complete = devices.catalogue(CatalogResponse(D, 1, 30, tuple(items[20:])))
    assert complete is not None and len(complete) == 30
    assert devices.owner_of(items[5].device_id).device_id == D
    assert devices.unregister(D) == WentOffline(D, "unregistered", tuple(i.device_id for i in items))


def test_catalogue_changes_add_delete_update_and_switch_channels() -> None:
    devices = Devices(KeepalivePolicy())
    assert not devices.changes("34020000001180000001", ())  # not registered: nothing to change
    devices.register("34020000001180000001", ("127.0.0.1", 5060), "udp", 3600, 0.0)
    ids = [f"3402000000132000000{i}" for i in range(1, 4)]
    devices.catalogue(CatalogResponse("34020000001180000001", 1, 2, (CatalogItem(ids[0], "a", "340200"),
                                                                      CatalogItem(ids[1], "b", "340200"))))
    assert devices.changes("34020000001180000001", (
        CatalogItem(ids[0], ids[0], ids[0][:6], event="OFF"), CatalogItem(ids[1], "", "", event="DEL"),
        CatalogItem(ids[2], "c", "340200", event="ADD")))
    channels = devices.devices["34020000001180000001"].channels
    assert set(channels) == {ids[0], ids[2]}
    assert (channels[ids[0]].name, channels[ids[0]].online) == ("a", False)  # OFF keeps what was known
    devices.changes("34020000001180000001", (CatalogItem(ids[0], ids[0], "", event="ON"),))
    assert channels[ids[0]].online and channels[ids[0]].name == "a"
