"""The baseline of the signature bar: a minimal, unauthenticated Meeting SDK signer (PyJWT in a bare view).

Same path, same request and response shapes and the same claims as the real endpoint, minus everything
the real one adds: no token check, no database, no validation library, no envelope helpers. The benchmark
serves it with exactly the server configuration it serves the API with
(`API_APP=bench.bare_signer:app python -m stack.entry api`).
"""

from __future__ import annotations

import os
import time

import jwt
from flask import Flask, jsonify, request

SDK_KEY = os.environ.get("ZOOM_SDK_KEY", "bench-sdk-key")
SDK_SECRET = os.environ.get("ZOOM_SDK_SECRET", "bench-sdk-secret-" + "y" * 32)

app = Flask(__name__)


@app.post("/api/v1/zoom/signature")
def signature():
    body = request.get_json()
    iat = int(time.time()) - 30
    exp = iat + int(body.get("expirationSeconds", 7200))
    payload = {
        "appKey": SDK_KEY,
        "sdkKey": SDK_KEY,
        "mn": str(body["meetingNumber"]),
        "role": int(body["role"]),
        "iat": iat,
        "exp": exp,
        "tokenExp": exp,
    }
    token = jwt.encode(payload, SDK_SECRET, algorithm="HS256", headers={"typ": "JWT"})
    return jsonify(
        status="created",
        message="Zoom signature generated successfully",
        data={"signature": token, "sdkKey": SDK_KEY},
    ), 201
