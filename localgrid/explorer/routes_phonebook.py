"""HTTP routes of the phonebook (/explorer/users)."""

from starlette.routing import Route

from localgrid.explorer.errors import bad_request
from localgrid.explorer.gojson import decode_bytes
from localgrid.explorer.gostr import parse_int
from localgrid.explorer.responses import handled, json_response, paginate
from localgrid.explorer.schema import USER, USER_UPDATE, VALIDATE_BODY


def _user_id(request, prefix="invalid id format"):
    try:
        return parse_int(request.path_params["user_id"])
    except ValueError as err:
        raise bad_request("%s: %s" % (prefix, err)) from None


def routes(phonebook):
    async def create_user(request):
        user = decode_bytes(USER, await request.body())
        return json_response(phonebook.create(user), 201)

    async def list_users(request):
        users = phonebook.find(
            name=request.query_params.get("name") or None, email=request.query_params.get("email") or None
        )
        page, headers = paginate(users, request.query_params)
        return json_response(page, headers=headers)

    async def get_user(request):
        return json_response(phonebook.get(_user_id(request)))

    async def update_user(request):
        tid = _user_id(request, "invalid user id: invalid id format")
        phonebook.update(tid, decode_bytes(USER_UPDATE, await request.body()))
        return json_response(None)

    async def validate_user(request):
        tid = _user_id(request)
        body = decode_bytes(VALIDATE_BODY, await request.body())
        return json_response({"is_valid": phonebook.validate(tid, body["payload"], body["signature"])})

    return [
        Route("/users", handled(create_user), methods=["POST"]),
        Route("/users", handled(list_users), methods=["GET"]),
        Route("/users/{user_id}", handled(get_user), methods=["GET"]),
        Route("/users/{user_id}", handled(update_user), methods=["PUT"]),
        Route("/users/{user_id}/validate", handled(validate_user), methods=["POST"]),
    ]
