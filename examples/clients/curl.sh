curl -N -H "Authorization: Bearer $TOKEN" "$URL"
