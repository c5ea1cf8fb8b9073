"""A local stand-in for SendGrid's signing key, so the demo can post correctly signed events.

The key pair lives under the local data folder (`.oie-data/sendgrid-signer.pem`); its
public half, base64 DER as SendGrid shows it, becomes a tenant's verification key.
Never used in production: there SendGrid signs and the tenant pastes SendGrid's key.
"""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from oie.ports import TenantStore
from oie.webhooks.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER

FILE_NAME = "sendgrid-signer.pem"


class LocalSigner:
    """An ECDSA P-256 key pair that signs (timestamp + body) the way SendGrid does."""

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        self.key = key

    @classmethod
    def generate(cls) -> LocalSigner:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def load_or_create(cls, data_dir: Path) -> LocalSigner:
        """The signer stored under `data_dir`, created (mode 600) on first use."""
        path = data_dir / FILE_NAME
        if path.exists():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, ec.EllipticCurvePrivateKey):
                raise ValueError(f"{path} does not hold an EC private key")
            return cls(key)
        signer = cls.generate()
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_bytes(
            signer.key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        path.chmod(0o600)
        return signer

    @property
    def public_key_b64(self) -> str:
        """The verification key as SendGrid's settings page shows it: base64 of the DER public key."""
        der = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def sign(self, body: bytes, timestamp: str) -> str:
        return base64.b64encode(self.key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()

    def headers(self, body: bytes, timestamp: int) -> dict[str, str]:
        """The headers SendGrid sends with a signed delivery."""
        stamp = str(timestamp)
        return {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: self.sign(body, stamp),
            TIMESTAMP_HEADER: stamp,
        }


def trust_for_tenant(tenants: TenantStore, tenant_id: str, signer: LocalSigner) -> None:
    """Make `signer` the tenant's SendGrid verification key (local development only)."""
    tenant = tenants.get(tenant_id)
    if tenant is None:
        raise LookupError(f"no tenant {tenant_id!r}")
    if tenant.sendgrid_webhook_public_key != signer.public_key_b64:
        tenants.put(tenant.model_copy(update={"sendgrid_webhook_public_key": signer.public_key_b64}))
