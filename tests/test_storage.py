import pytest

from shared.storage import StorageConfigError, StorageSettings


def test_connection_string_wins():
    s = StorageSettings.from_env({"PROW_STORAGE": " UseDevelopmentStorage=true ",
                                  "PROW_STORAGE__blobServiceUri": "https://x.blob.core.windows.net"})
    assert s.connection_string == "UseDevelopmentStorage=true" and s.blob_uri is None


def test_identity_based_service_uris():
    s = StorageSettings.from_env({
        "PROW_STORAGE__blobServiceUri": "https://acct.blob.core.windows.net",
        "PROW_STORAGE__queueServiceUri": "https://acct.queue.core.windows.net",
        "PROW_STORAGE__tableServiceUri": "https://acct.table.core.windows.net",
        "PROW_STORAGE__clientId": "00000000-0000-0000-0000-000000000001"})
    assert (s.blob_uri, s.queue_uri, s.table_uri) == ("https://acct.blob.core.windows.net",
                                                       "https://acct.queue.core.windows.net",
                                                       "https://acct.table.core.windows.net")
    assert s.connection_string is None and s.client_id.endswith("1")


def test_account_name_gives_public_cloud_endpoints():
    s = StorageSettings.from_env({"PROW_STORAGE__accountName": "acct"})
    assert s.queue_uri == "https://acct.queue.core.windows.net"


def test_missing_setting_is_a_clear_error():
    with pytest.raises(StorageConfigError, match="PROW_STORAGE"):
        StorageSettings.from_env({})
