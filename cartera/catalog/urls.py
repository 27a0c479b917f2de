"""Pages of the catalog app."""

from django.urls import URLPattern, URLResolver, path

from . import views

app_name = "catalog"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.product_list, name="list"),
    path("export/", views.product_export, name="export"),
    path("new/", views.product_create, name="create"),
    path("<int:pk>/", views.product_detail, name="detail"),
    path("<int:pk>/edit/", views.product_edit, name="edit"),
    path("price-lists/", views.price_list_index, name="price_lists"),
    path("price-lists/new/", views.price_list_create, name="price_list_create"),
    path("price-lists/<int:pk>/", views.price_list_detail, name="price_list"),
]
